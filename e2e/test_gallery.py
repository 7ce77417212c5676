"""The template gallery in a browser, at a desktop and a narrow width: each page shows every state
of its partial, with no browser problem and nothing wider than the window. `make gallery-shots`
also leaves a full-page screenshot of each in var/gallery/ for review (GALLERY_SHOTS=1: a
screenshot of a long page takes seconds, so the test run makes none)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.pages import axe_violations, watch_for_problems
from purchasing.gallery import Partial, discover, load_states
from purchasing.settings import PROJECT_ROOT
from purchasing.web.templating import TEMPLATES
from tests.helpers.servers import LiveServer, serving

SHOTS = PROJECT_ROOT / "var" / "gallery"
WIDTHS = {1280: 900, 390: 844}  # width: height of the window
PARTIALS = discover(TEMPLATES)


class GalleryServer(LiveServer):
    """`purchasing serve` with DEBUG on, which the gallery needs, on an empty database."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.env["DEBUG"] = "1"


@pytest.fixture(scope="module")
def gallery_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GalleryServer]:
    yield from serving(GalleryServer(tmp_path_factory.mktemp("gallery")))


@pytest.fixture(params=list(WIDTHS), ids=lambda width: f"{width}px")
def window(
    request: pytest.FixtureRequest, browser: Browser, gallery_server: GalleryServer
) -> Iterator[Page]:
    width = request.param
    context = browser.new_context(
        base_url=gallery_server.url, viewport={"width": width, "height": WIDTHS[width]}
    )
    page = context.new_page()
    watch_for_problems(page)
    yield page
    context.close()


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == 200


def window_width(page: Page) -> int:
    return page.viewport_size["width"] if page.viewport_size else 0


def shoot(page: Page, name: str) -> None:
    if os.environ.get("GALLERY_SHOTS") != "1":
        return
    path = SHOTS / f"{name}-{window_width(page)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)


def test_the_index_lists_every_partial(window: Page) -> None:
    visit(window, "/_gallery")
    expect(window.get_by_test_id("gallery-entry")).to_have_count(len(PARTIALS))
    expect(window.get_by_test_id("gallery-problem")).to_have_count(0)
    assert axe_violations(window) == []
    shoot(window, "index")


@pytest.mark.parametrize("partial", PARTIALS, ids=[p.name for p in PARTIALS])
def test_each_partial_shows_every_state(window: Page, partial: Partial) -> None:
    visit(window, f"/_gallery/{partial.name}")
    names = list(load_states(partial).contexts)
    expect(window.get_by_test_id("gallery-state-name")).to_have_text(names)
    expect(window.get_by_test_id("gallery-error")).to_have_count(0)
    # Nothing widens the page past the window: wide tables scroll inside their own frame.
    assert window.evaluate("document.documentElement.scrollWidth") <= window_width(window)
    assert axe_violations(window) == []  # axe-core: nothing serious or critical, in any state
    shoot(window, partial.name)
