"""The detail page's live part: one URL, the page for a browser and its live part for htmx; a
purchase deleted meanwhile says by whom and when, to those who could see it and nobody else."""

from __future__ import annotations

from purchasing.tables import Farm
from tests.helpers.app import LiveApp, signed_in
from tests.helpers.databases import SQLITE_ONLY
from tests.helpers.demo import a_purchase


@SQLITE_ONLY  # rendering, not storage
async def test_htmx_gets_the_live_part_of_the_page_it_would_morph(live: LiveApp) -> None:
    manager = await signed_in(live, "manager")
    draft = await a_purchase("supply", "draft")
    url = f"/purchases/supply/{draft['id']}"
    page = await manager.get(url)
    part = await manager.get(url, htmx=True)
    assert page.status_code == part.status_code == 200
    assert page.headers["vary"] == part.headers["vary"] == "HX-Request"
    assert 'id="live-detail"' in page.text
    assert "data-live-stream" in page.text
    assert part.text.lstrip().startswith('<div class="page-head">')
    assert "<html" not in part.text
    assert 'id="live-detail"' not in part.text
    for hook in (
        'data-testid="purchase-status"',
        'data-testid="history-row"',
        draft["invoice_number"],
    ):
        assert hook in part.text
        assert hook in page.text
    assert f'data-version="{draft["version"]}"' in part.text


async def test_a_deleted_purchase_says_who_deleted_it_to_whoever_could_see_it(
    live: LiveApp,
) -> None:
    admin = await signed_in(live, "admin")
    draft = await a_purchase("supply", "draft")
    url = f"/purchases/supply/{draft['id']}"
    deleted = await admin.post(f"{url}/delete", {"version": draft["version"]})
    assert deleted.status_code == 303

    page = await admin.get(url)
    assert page.status_code == 410
    assert 'data-testid="purchase-deleted"' in page.text
    assert draft["invoice_number"] in page.text
    assert 'data-testid="deleted-by">Admin' in page.text
    part = await admin.get(url, htmx=True)
    assert part.status_code == 200  # htmx swaps it in over the page it had
    assert 'data-testid="purchase-deleted"' in part.text
    assert "<html" not in part.text

    # The same page for people who never could see the purchase: as if it never existed.
    farm = await Farm.select(Farm.code).where(Farm.id == draft["farm"]).first()
    assert farm is not None
    strangers = ["admin2", "operator4"] + ([] if farm["code"] == "F03" else ["operator3"])
    for username in strangers:
        stranger = await signed_in(live, username)
        for htmx in (False, True):
            answer = await stranger.get(url, htmx=htmx)
            assert answer.status_code == 404, (username, htmx)
            assert draft["invoice_number"] not in answer.text
            assert "deleted-by" not in answer.text


@SQLITE_ONLY  # rendering, not storage
async def test_a_purchase_that_never_existed_is_not_found(live: LiveApp) -> None:
    manager = await signed_in(live, "manager")
    for url in ("/purchases/supply/999999", "/purchases/feed/0"):
        assert (await manager.get(url)).status_code == 404
        assert (await manager.get(url, htmx=True)).status_code == 404
