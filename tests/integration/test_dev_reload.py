"""Live reload in development: with DEBUG a changed template or static file reaches every open
stream as one `dev_reload` frame; without DEBUG nothing watches and pages carry no marker."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from purchasing.web.dev_reload import TASK_NAME
from purchasing.web.templating import TEMPLATES
from tests.helpers.app import Clerk, LiveApp, make_app
from tests.helpers.sse import Stream, open_stream

ROW = "purchases/_row.html.j2"
MARKER = '<span data-testid="dev-marker">edited</span>'


def watching() -> bool:
    return any(task.get_name() == TASK_NAME for task in asyncio.all_tasks())


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the templates and a static folder of one file, for this test to edit."""
    templates = shutil.copytree(TEMPLATES, tmp_path / "templates")
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body {}\n")
    return templates, static


def serving(tmp_path: Path, database: str, folders: tuple[Path, Path], **overrides: Any) -> LiveApp:
    templates, static = folders
    app = make_app(tmp_path, database, templates_dir=templates, static_dir=static, **overrides)
    return LiveApp(app)


@pytest.fixture
async def debug_app(
    tmp_path: Path, database: str, folders: tuple[Path, Path]
) -> AsyncIterator[LiveApp]:
    async with serving(tmp_path, database, folders, debug=True) as live:
        yield live
    assert not watching()  # stopped with the app


async def next_reload(stream: Stream) -> dict[str, object]:
    frame = await stream.next_event()
    assert (frame.event, frame.id) == ("dev_reload", None)  # no id: no page's cursor moves
    return dict(frame.json)


async def test_a_changed_partial_reaches_open_streams_and_the_next_table_shows_it(
    debug_app: LiveApp, folders: tuple[Path, Path]
) -> None:
    row = folders[0] / ROW
    assert watching()
    async with debug_app.client() as client:
        clerk = Clerk(client)
        await clerk.login("admin")
        page = await clerk.get("/purchases/supply")
        assert "data-dev-reload" in page.text
        before = await clerk.get("/purchases/supply", htmx=True)
        async with open_stream(client) as stream:
            row.write_text(row.read_text().replace("</td>", f"{MARKER}</td>", 1))
            assert await next_reload(stream) == {
                "paths": [f"templates/{ROW}"],
                "partial_only": True,
            }
        # The page asks again with the ETag it holds: it gets the new table, not a 304.
        etag = {"If-None-Match": before.headers["etag"]}
        after = await clerk.get("/purchases/supply", headers=etag, htmx=True)
    assert MARKER not in before.text
    assert after.status_code == 200
    assert MARKER in after.text


async def test_a_changed_page_static_file_or_unfetched_partial_asks_for_a_full_reload(
    debug_app: LiveApp, folders: tuple[Path, Path]
) -> None:
    templates, static = folders
    async with debug_app.client() as client:
        clerk = Clerk(client)
        await clerk.login("admin")
        css = await clerk.get("/static/app.css")
        assert css.headers["cache-control"] == "no-cache"  # a reload gets the new file
        async with open_stream(client) as stream:
            (static / "app.css").write_text("body { color: red; }\n")
            assert await next_reload(stream) == {"paths": ["static/app.css"], "partial_only": False}
            toast = templates / "live/_toast.html.j2"  # a partial outside the table and panel
            toast.write_text(toast.read_text() + "\n")
            reload = await next_reload(stream)
            assert reload == {"paths": ["templates/live/_toast.html.j2"], "partial_only": False}
            index = templates / "purchases/index.html.j2"
            index.write_text(index.read_text().replace("</h1>", " (edited)</h1>"))
            reload = await next_reload(stream)
    assert reload == {"paths": ["templates/purchases/index.html.j2"], "partial_only": False}


async def test_without_debug_nothing_watches_and_pages_carry_no_marker(
    tmp_path: Path, database: str, folders: tuple[Path, Path]
) -> None:
    async with serving(tmp_path, database, folders, debug=False, heartbeat_s=0.2) as live:
        assert not watching()
        async with live.client() as client:
            clerk = Clerk(client)
            await clerk.login("admin")
            page = await clerk.get("/purchases/supply")
            css = await clerk.get("/static/app.css")
            async with open_stream(client) as stream:
                assert (await stream.next()).retry is not None
                (folders[0] / ROW).write_text("changed")
                # A watcher would have spoken within 0.1 s: only heartbeats come, 0.2 s apart.
                quiet = [await stream.next() for _ in range(2)]
    assert [frame.comment for frame in quiet] == ["ping", "ping"]
    assert page.status_code == 200
    assert "data-dev-reload" not in page.text
    assert "cache-control" not in css.headers
