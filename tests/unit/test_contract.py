"""The private details of uvicorn and Litestar the fast path and the graceful server rely on
(`serving/contract.py`): after an upgrade, this names whatever is gone."""

from __future__ import annotations

import pytest

from purchasing.serving.contract import DETAILS, Detail, missing


@pytest.mark.parametrize("detail", DETAILS, ids=str)
def test_this_uvicorn_and_litestar_still_have(detail: Detail) -> None:
    assert detail.holds(), f"{detail} is gone ({detail.why}): see serving/contract.py"


def test_a_detail_that_is_gone_is_named() -> None:
    gone = Detail("uvicorn.protocols.http.httptools_impl:RequestResponseCycle", "vanished", "-")
    assert not gone.holds()
    assert str(gone) == "uvicorn.protocols.http.httptools_impl:RequestResponseCycle.vanished"
    assert not Detail("no_such_module", "x", "-").holds()
    assert missing() == []
