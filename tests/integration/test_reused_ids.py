"""A form names the purchase it was opened on by its id and its creation stamp. When another
purchase has that id since (a restored backup rewinds ids on either engine; SQLite reused a
deleted purchase's before its keys were AUTOINCREMENT), the form is answered as for a deleted
purchase, and the other purchase is left as it was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from purchasing import db
from purchasing.tables import Purchase, StatusHistory, SupplyLine
from tests.helpers.app import Clerk, LiveApp, signed_in
from tests.helpers.forms import form_fields, header, ids, marked_form_fields, valid_lines


@dataclass
class Replaced:
    """Forms opened on purchase A, which was then deleted; B has A's id and version now."""

    purchase_id: int
    edit: dict[str, str]
    control: dict[str, str]
    delete: dict[str, str]
    b_before: dict[str, Any]


async def rewind_ids(next_id: int) -> None:
    """Make the next purchase created get `next_id`, as a backup restored from before it
    would."""
    if isinstance(db.current_engine(), SQLiteEngine):
        await Purchase.raw(
            "UPDATE sqlite_sequence SET seq = {} WHERE name = 'purchase'", next_id - 1
        )
    else:
        await Purchase.raw(
            "SELECT setval(pg_get_serial_sequence('purchase', 'id'), {})", next_id - 1
        )


async def create(clerk: Clerk, invoice: str) -> int:
    ref = await ids()
    data = header(ref, invoice, **valid_lines("supply", ref))
    response = await clerk.post("/purchases/supply/new", data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def stored(purchase_id: int) -> dict[str, Any]:
    """Everything a form could change: the row, its lines and its history."""
    row = await Purchase.select().where(Purchase.id == purchase_id).first()
    lines = await SupplyLine.select().where(SupplyLine.purchase == purchase_id)
    history = await StatusHistory.select().where(StatusHistory.purchase == purchase_id)
    return {"row": row, "lines": lines, "history": history}


@pytest.fixture
async def replaced(live: LiveApp, admin: Clerk) -> Replaced:
    a = await create(admin, "REUSE/A")
    edit = form_fields((await admin.get(f"/purchases/supply/{a}/edit")).text)
    row = await admin.get("/purchases/supply?q=REUSE/A", htmx=True)
    control = marked_form_fields(row.text, "status-control")
    delete = marked_form_fields((await admin.get(f"/purchases/supply/{a}")).text, "delete-form")
    assert edit["created"] == control["created"] == delete["created"] != ""
    assert (await admin.post(f"/purchases/supply/{a}/delete", delete)).status_code == 303

    await rewind_ids(a)
    colleague = await signed_in(live, "manager")
    b = await create(colleague, "REUSE/B")
    assert b == a
    b_before = await stored(b)
    assert b_before["row"]["version"] == 1
    return Replaced(a, edit, control, delete, b_before)


async def test_an_edit_form_opened_on_a_deleted_purchase_never_saves_over_the_next_with_its_id(
    admin: Clerk, replaced: Replaced
) -> None:
    url = f"/purchases/supply/{replaced.purchase_id}/edit"
    answer = await admin.post(url, {**replaced.edit, "notes": "typed on A", "action": "save"})
    assert answer.status_code == 409
    assert "Admin deleted this purchase at" in answer.text
    assert form_fields(answer.text)["notes"] == "typed on A"
    assert await stored(replaced.purchase_id) == replaced.b_before


async def test_a_status_control_opened_on_a_deleted_purchase_never_moves_the_next_with_its_id(
    admin: Clerk, replaced: Replaced
) -> None:
    url = f"/purchases/supply/{replaced.purchase_id}/status"
    answer = await admin.post(url, {**replaced.control, "status": "pending"}, htmx=True)
    assert answer.status_code == 404
    assert await stored(replaced.purchase_id) == replaced.b_before


async def test_a_delete_form_opened_on_a_deleted_purchase_never_deletes_the_next_with_its_id(
    admin: Clerk, replaced: Replaced
) -> None:
    url = f"/purchases/supply/{replaced.purchase_id}/delete"
    answer = await admin.post(url, replaced.delete)
    assert answer.status_code == 404
    assert await stored(replaced.purchase_id) == replaced.b_before


async def test_the_stale_banner_of_a_form_on_a_deleted_purchase_says_so_when_its_id_is_taken(
    admin: Clerk, replaced: Replaced
) -> None:
    url = f"/purchases/supply/{replaced.purchase_id}/edit/changes"
    asked = {name: replaced.edit[name] for name in ("base", "version", "created")}
    banner = await admin.post(url, asked, htmx=True)
    assert banner.status_code == 200
    assert "deleted this purchase at" in banner.text


async def test_forms_act_on_their_own_purchase_with_or_without_its_stamp(admin: Clerk) -> None:
    """Without it: a page opened before forms carried the stamp, still working as it did."""
    pid = await create(admin, "OWN/1")
    for keep_stamp in (True, False):
        edit = form_fields((await admin.get(f"/purchases/supply/{pid}/edit")).text)
        row = await admin.get("/purchases/supply?q=OWN/1", htmx=True)
        control = marked_form_fields(row.text, "status-control")
        if not keep_stamp:
            del edit["created"], control["created"]
        saved = await admin.post(f"/purchases/supply/{pid}/edit", {**edit, "action": "save"})
        assert saved.status_code == 303
        version = int(edit["version"]) + 1
        target = "pending" if keep_stamp else "draft"
        form = {**control, "version": str(version), "status": target}
        moved = await admin.post(f"/purchases/supply/{pid}/status", form, htmx=True)
        assert moved.status_code == 200, moved.text
        assert (await stored(pid))["row"]["status"] == target
