"""Which changes a page can show by re-fetching its live fragments, and which need a reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from purchasing.web.dev_reload import live_templates, reload_frame
from purchasing.web.templating import TEMPLATES

ROW = "templates/purchases/_row.html.j2"
TOAST = "templates/live/_toast.html.j2"


def partial_only(frame: bytes) -> bool:
    assert frame.startswith(b"event: dev_reload\ndata: {")
    assert b"id:" not in frame
    assert frame.count(b'"partial_only":') == 1
    return b'"partial_only":true' in frame


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([ROW], True),
        (["templates/purchases/_status_badge.html.j2"], True),  # included by _row
        (["templates/admin/_monitor_panel.html.j2", ROW], True),
        ([TOAST], False),  # a partial no live fragment renders
        ([ROW, TOAST], False),
        ([ROW, "templates/purchases/index.html.j2"], False),
        (["templates/base.html.j2"], False),
        (["static/_private.css"], False),
    ],
)
def test_only_templates_the_live_fragments_render_are_partial_only(
    paths: list[str], expected: bool
) -> None:
    assert partial_only(reload_frame(paths, live_templates(TEMPLATES))) is expected


def test_the_includes_are_read_as_the_folder_holds_them_now(tmp_path: Path) -> None:
    templates = shutil.copytree(TEMPLATES, tmp_path / "templates")
    table = templates / "purchases/_table.html.j2"
    table.write_text(table.read_text() + '{% include "live/_toast.html.j2" %}\n')
    assert partial_only(reload_frame([TOAST], live_templates(templates)))


def test_a_template_that_fails_to_parse_reloads_the_page(tmp_path: Path) -> None:
    templates = shutil.copytree(TEMPLATES, tmp_path / "templates")
    (templates / "purchases/_row.html.j2").write_text("{% if %}\n")
    assert live_templates(templates) == frozenset()
    assert not partial_only(reload_frame([ROW], live_templates(templates)))
