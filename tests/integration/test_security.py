"""CSRF on every state-changing route, GET changing nothing, and security headers everywhere."""

from __future__ import annotations

import re

import httpx
import pytest

from purchasing.tables import ALL_TABLES
from tests.helpers.app import Clerk, LiveApp
from tests.helpers.demo import a_purchase
from tests.helpers.sse import open_stream

PATH_PARAM = re.compile(r"\{(\w+):\w+\}")


async def snapshot() -> dict[str, int]:
    """Row counts and the newest change, table by table: what any write would alter."""
    counts = {}
    for table in ALL_TABLES:
        counts[table._meta.tablename] = await table.count()
    return counts


async def concrete_routes(live: LiveApp, method: str) -> list[str]:
    draft = await a_purchase("supply", "draft")
    values = {"kind": "supply", "purchase_id": str(draft["id"]), "file_path": "app.css"}
    paths = []
    for route in live.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if method in handler.http_methods:
                paths.append(PATH_PARAM.sub(lambda m: values[m.group(1)], route.path))
    return sorted(set(paths))


async def test_every_post_route_refuses_a_request_without_the_csrf_token(
    live: LiveApp, admin: Clerk
) -> None:
    posts = await concrete_routes(live, "POST")
    assert len(posts) >= 6
    before = await snapshot()
    for path in posts:
        for htmx in (False, True):
            response = await admin.post(
                path, {"status": "pending", "version": "1"}, htmx=htmx, csrf=False
            )
            assert response.status_code == 403, path
    assert await snapshot() == before
    assert (await admin.get("/purchases/supply")).status_code == 200  # still logged in


async def test_get_routes_change_nothing(live: LiveApp, admin: Clerk) -> None:
    gets = [path for path in await concrete_routes(live, "GET") if path != "/events"]
    assert len(gets) >= 8
    before = await snapshot()
    for path in gets:
        assert (await admin.get(path)).status_code in (200, 302, 303), path
    async with open_stream(admin.client) as stream:
        await stream.next()
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("path", "logged_in"),
    [
        ("/login", False),
        ("/purchases/supply", True),
        ("/purchases/feed?per_page=50", True),
        ("/static/app.css", False),
        ("/purchases/nonsense", True),
        ("/no/such/page", False),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, path: str, logged_in: bool
) -> None:
    if logged_in:
        await Clerk(client).login("admin")
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # plain HTTP here


async def test_the_stream_carries_them_too(admin: Clerk) -> None:
    async with open_stream(admin.client) as stream:
        assert "frame-ancestors 'none'" in stream.response.headers["content-security-policy"]


async def test_every_stream_gets_the_same_headers_however_many_were_opened(admin: Clerk) -> None:
    """Each response's headers are its own: none pile up from earlier streams."""
    heads = []
    for _ in range(3):
        async with open_stream(admin.client) as stream:
            heads.append([name for name, _ in stream.response.headers.multi_items()])
    assert heads[0] == heads[1] == heads[2]
    assert heads[2].count("set-cookie") <= 1


async def test_pages_have_no_inline_script_or_style(admin: Clerk) -> None:
    for path in ("/purchases/supply", "/purchases/livestock/new", "/login"):
        html = (await admin.get(path)).text
        assert not re.search(r"<script(?![^>]*\ssrc=)", html), path
        assert " style=" not in html, path
        assert "<style" not in html, path
        assert not re.search(r"\son\w+=", html), path  # no inline event handlers


async def test_signed_in_pages_are_kept_by_no_cache_and_the_table_revalidates(
    admin: Clerk,
) -> None:
    p = await a_purchase("supply", "draft")
    for path in (
        "/purchases/supply",
        f"/purchases/supply/{p['id']}",
        f"/purchases/supply/{p['id']}/edit",
        "/purchases/supply/new",
        "/admin/monitor",
    ):
        response = await admin.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    table = await admin.get("/purchases/supply", htmx=True)
    assert table.headers["cache-control"] == "private, no-cache"
    again = await admin.get(
        "/purchases/supply", htmx=True, headers={"If-None-Match": table.headers["etag"]}
    )
    assert again.status_code == 304


async def test_every_response_that_differs_for_htmx_says_so_to_caches(admin: Clerk) -> None:
    p = await a_purchase("supply", "draft")
    move = {"status": "pending", "version": str(p["version"])}
    for htmx in (False, True):
        answers = [
            await admin.get("/purchases/supply", htmx=htmx),
            await admin.get("/purchases/supply/new", htmx=htmx),
            await admin.get("/admin/monitor", htmx=htmx),
            await admin.get("/purchases/supply/999999999", htmx=htmx),  # an error page
            await admin.post(f"/purchases/supply/{p['id']}/status", move, htmx=htmx),
        ]
        for answer in answers:
            assert answer.headers.get("vary") == "HX-Request", (answer.url, htmx)
        move["version"] = str(int(move["version"]) + 1)
        move["status"] = "draft"
