"""Named hostile values, sent to every field and parameter, and the tally of their answers."""

from __future__ import annotations

import httpx

from tests.helpers.report import HOSTILE_RESULTS

HOSTILE = [
    "",
    " ",
    "x" * 5000,
    "9" * 5000,  # more digits than Python's int() reads
    "-1",
    "-99999999999999999999",
    "0",
    "1e309",
    "99999999999999999999999999",
    "1.5",
    "NaN",
    "Infinity",
    "0x1F",
    "1,5",
    "\x00",
    "ünïcødé 🐔 ضع ꦗꦮ",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1' --",
    "1; DROP TABLE purchase; --",
    "../../etc/passwd",
    "987654321",
]
QUERY_PARAMS = ["page", "per_page", "sort", "dir", "q", "status", "unknown"]


def record(target: str, response: httpx.Response) -> int:
    HOSTILE_RESULTS[(target, response.status_code)] = (
        HOSTILE_RESULTS.get((target, response.status_code), 0) + 1
    )
    assert response.status_code < 500, (target, response.text[:500])
    return response.status_code
