"""The template gallery through the real app: with DEBUG on, every declared state of every partial
renders (StrictUndefined: an undefined variable is an error) and the index lists them all; with
DEBUG off the gallery is not there. The gallery reads no database, so SQLite alone will do."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from purchasing.gallery import discover, load_states
from purchasing.web.templating import TEMPLATES
from tests.helpers.app import make_app

pytestmark = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)
PARTIALS = discover(TEMPLATES)
STATE = re.compile(r'data-testid="gallery-state" data-state="([^"]*)"')


@pytest.fixture
def gallery(tmp_path: Path, migrated_database: str) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=make_app(tmp_path, migrated_database, debug=True)) as client:
        yield client


def test_every_state_of_every_partial_renders(gallery: TestClient[Litestar]) -> None:
    failures = []
    for partial in PARTIALS:
        names = list(load_states(partial).contexts)
        response = gallery.get(f"/_gallery/{partial.name}")
        shown = [html.unescape(name) for name in STATE.findall(response.text)]
        if response.status_code != 200 or "gallery-error" in response.text or shown != names:
            failures.append(f"{partial.name}: HTTP {response.status_code}, {errors(response.text)}")
    assert failures == []


def test_the_index_lists_every_partial_with_its_state_count(gallery: TestClient[Litestar]) -> None:
    response = gallery.get("/_gallery")
    assert response.status_code == 200
    listed = dict(re.findall(r'data-partial="([^"]+)" data-states="(\d+)"', response.text))
    assert listed == {p.name: str(len(load_states(p).contexts)) for p in PARTIALS}
    assert 'data-testid="gallery-problem"' not in response.text
    assert 'href="/_gallery/purchases/_row"' in response.text


def test_pages_need_no_session_and_show_the_layout_signed_out(
    gallery: TestClient[Litestar],
) -> None:
    response = gallery.get("/_gallery/purchases/_row", follow_redirects=False)
    assert response.status_code == 200
    assert "/static/app.css" in response.text
    assert 'data-testid="current-user"' not in response.text
    assert "hx-disable" in response.text  # the samples' forms post nowhere


def test_an_unknown_partial_is_not_found(gallery: TestClient[Litestar]) -> None:
    for path in ("/_gallery/purchases/_nothing", "/_gallery/purchases/index", "/_gallery/../app"):
        assert gallery.get(path).status_code == 404


def test_with_debug_off_there_is_no_gallery(tmp_path: Path, migrated_database: str) -> None:
    with TestClient(app=make_app(tmp_path, migrated_database, debug=False)) as client:
        for path in ("/_gallery", "/_gallery/", "/_gallery/purchases/_row"):
            assert client.get(path, follow_redirects=False).status_code == 404


def test_a_new_partial_shows_with_its_states_and_without_them_says_so(
    tmp_path: Path, migrated_database: str
) -> None:
    """In a copy of the templates (TEMPLATES_DIR): a partial without states is flagged on the
    index and its page fails; one whose state reads an undefined variable fails in place."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "live" / "_badge.html.j2").write_text("{#- A badge. Inputs: text. -#}<b>{{ text }}</b>")
    (copy / "live" / "_broken.html.j2").write_text("{#- Broken. Inputs: a. -#}{{ a.missing }}")
    (copy / "live" / "_broken.states.py").write_text('STATES = {"empty": {"a": {}}}\n')
    app = make_app(tmp_path, migrated_database, debug=True, templates_dir=copy)
    with TestClient(app=app) as client:
        index = client.get("/_gallery").text
        assert "live/_badge has no states: add _badge.states.py beside it" in index
        page = client.get("/_gallery/live/_badge")
        assert page.status_code == 500
        assert "has no states" in page.text
        broken = client.get("/_gallery/live/_broken")
        assert broken.status_code == 500
        assert "UndefinedError" in errors(broken.text)
        (copy / "live" / "_badge.states.py").write_text('STATES = {"new": {"text": "Baru"}}\n')
        added = client.get("/_gallery/live/_badge")
        assert added.status_code == 200
        assert "<b>Baru</b>" in added.text


def errors(page: str) -> str:
    found = re.findall(r'data-testid="gallery-error">([^<]*)<', page)
    return html.unescape("; ".join(found))
