"""Which changes a page can show by re-fetching its live fragments, and which need a reload."""

from __future__ import annotations

import pytest

from purchasing.web.dev_reload import reload_frame


@pytest.mark.parametrize(
    ("paths", "partial_only"),
    [
        (["templates/purchases/_row.html.j2"], True),
        (["templates/purchases/_row.html.j2", "templates/live/_toast.html.j2"], True),
        (["templates/purchases/_row.html.j2", "templates/purchases/index.html.j2"], False),
        (["templates/base.html.j2"], False),
        (["static/_private.css"], False),
    ],
)
def test_only_template_partials_are_partial_only(paths: list[str], partial_only: bool) -> None:
    frame = reload_frame(paths)
    flag = b'"partial_only":true' if partial_only else b'"partial_only":false'
    assert frame.startswith(b"event: dev_reload\ndata: {")
    assert b"id:" not in frame
    assert flag in frame
