"""Request bodies are bounded before anything reads them: by their length, then by their count
of fields, on every route, signed in or not."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlencode

from purchasing.tables import Item, ItemUnit, Purchase
from purchasing.web.body_limits import MAX_BODY, MAX_FIELDS
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import main_company
from tests.helpers.forms import count, form_fields, header, ids
from tests.helpers.report import TEST_REPORT

pytestmark = SQLITE_ONLY  # the limits come before any query
TOO_LARGE = "This request is larger than the 128 KB it may be."


async def test_the_largest_real_form_fits_the_limits_with_room_to_spare(admin: Clerk) -> None:
    """An edit of 50 feed lines, each field as long as its input allows, with the form's base."""
    ref = await ids()
    items = await feed_items(25, ref)
    lines = {}
    for n in range(50):
        lines |= {
            f"lines-{n}-flock": ref["F01-K01-A"] if n % 2 else ref["F01-K02-A"],
            f"lines-{n}-item": items[n // 2],
            f"lines-{n}-unit": ref["SAK"],
            f"lines-{n}-quantity": "999999.1234",
            f"lines-{n}-price": "1999999.99",
        }
    data = header(ref, "INV/" + "9" * 60, notes="n" * 2000, do_number="D" * 64) | lines
    created = await admin.post("/purchases/feed/new", data)
    assert created.status_code == 303, re.findall(r"field-error[^>]*>([^<]+)", created.text)
    edit_url = created.headers["location"] + "/edit"
    fields = form_fields((await admin.get(edit_url)).text)
    body = urlencode({**fields, "action": "save"}).encode()
    assert sum(1 for name in fields if name.startswith("lines-")) == 50 * 6  # with their ids
    saved = await admin.post(edit_url, {**fields, "action": "save"})
    assert saved.status_code == 303, saved.text[:300]
    assert len(body) < MAX_BODY / 4  # a note of 2,000 emoji would add 24 KB
    assert len(fields) < MAX_FIELDS / 2
    TEST_REPORT.append(
        f"largest real form (a 50-line feed edit with its base): {len(body) / 1024:.0f} KB and "
        f"{len(fields)} fields, against limits of {MAX_BODY // 1024} KB and {MAX_FIELDS} fields"
    )


async def feed_items(count: int, ref: dict[str, int]) -> list[int]:
    """`count` more feed items of the main company, sold by the sack: a line each per flock."""
    made = []
    for n in range(count):
        item = Item(
            company=await main_company(),
            kind="feed",
            code=f"PKN-X{n:02d}",
            name=f"Pakan {n:02d} " + "x" * 80,
            base_unit=ref["GRAM"],
        )
        await item.save()
        await ItemUnit(item=item.id, unit=ref["SAK"], value=Decimal(50000)).save()
        await ItemUnit(item=item.id, unit=ref["GRAM"], value=Decimal(1)).save()
        made.append(item.id)
    return made


async def test_a_body_past_the_limit_is_refused_from_its_length_before_any_is_read(
    live: LiveApp,
) -> None:
    """The headers alone are sent: the answer comes without the server waiting for a body."""
    host, port = live.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        "POST /login HTTP/1.1\r\nhost: x\r\naccept-language: id\r\n"
        "content-type: application/x-www-form-urlencoded\r\n"
        "content-length: 9800000\r\n\r\n"
    )
    writer.write(head.encode())
    answer = await asyncio.wait_for(reader.read(64 * 1024), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert "Permintaan ini lebih besar dari 128 KB yang diizinkan." in answer.decode()


async def test_a_body_sent_without_a_length_is_refused_once_it_outgrows_the_limit(
    anonymous: Clerk,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"a=" + b"x" * 16 * 1024 + b"&"

    await anonymous.get("/login")
    response = await anonymous.client.post(
        "/login",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert TOO_LARGE in response.text


async def test_a_form_of_more_fields_than_any_real_one_is_refused_and_changes_nothing(
    admin: Clerk,
) -> None:
    ref = await ids()
    before = await count("supply")
    junk = {f"junk-{n}": "" for n in range(MAX_FIELDS)}
    data = header(ref, "INV/MANY/1") | junk
    response = await admin.post("/purchases/supply/new", data)
    assert response.status_code == 400
    assert "This form has more than 1,000 fields." in response.text
    assert await count("supply") == before
    assert not await Purchase.exists().where(Purchase.invoice_number == "INV/MANY/1")


async def test_a_multipart_form_of_too_many_parts_is_refused_and_changes_nothing(
    admin: Clerk,
) -> None:
    ref = await ids()
    before = await count("supply")
    parts = {name: (None, str(value)) for name, value in header(ref, "INV/PARTS/1").items()}
    parts |= {f"part-{n}": (None, "") for n in range(MAX_FIELDS)}
    headers = {"x-csrftoken": admin.client.cookies.get("csrftoken", "")}
    response = await admin.client.post("/purchases/supply/new", files=parts, headers=headers)
    assert response.status_code == 400
    assert await count("supply") == before
