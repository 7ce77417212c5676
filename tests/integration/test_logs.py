"""The log of a served process: JSON lines, each request's id on its lines and in its
`X-Request-ID`, one line per status change, and no password, session id, CSRF token or secret
key anywhere."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.app import Clerk
from tests.helpers.demo import a_purchase, move, user_id
from tests.helpers.servers import AppServer, served
from tests.helpers.sse import open_stream

SECRET_KEY = f"log-test-secret-{secrets.token_hex(8)}"
WRONG_PASSWORD = f"not-the-password-{secrets.token_hex(4)}"
OFFERED_ID = "test-request-0001"
# Loggers that only ever write while a request is handled.
REQUEST_LOGGERS = {"uvicorn.access", "purchasing.auth", "purchasing.status"}


@pytest.fixture
async def server(tmp_path: Path, database: str) -> AsyncIterator[AppServer]:
    process = AppServer(
        tmp_path,
        {"DATABASE_URL": database, "SECRET_KEY": SECRET_KEY, "LOG_FORMAT": "json"},
    )
    async with served(process) as running:
        yield running


def parsed(log: str) -> list[dict[str, Any]]:
    """Every line of the log, each of which must be one JSON object."""
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def access_line(lines: list[dict[str, Any]], response: httpx.Response) -> dict[str, Any]:
    """The one access line of `response`, found by the id the response carries."""
    request_id = response.headers["x-request-id"]
    [line] = [
        line
        for line in lines
        if line["logger"] == "uvicorn.access" and line.get("request_id") == request_id
    ]
    assert (line["method"], line["path"]) == (response.request.method, response.request.url.path)
    assert line["status"] == response.status_code
    return line


async def test_every_request_line_has_its_id_a_status_change_has_its_line_and_no_secret_shows(
    server: AppServer,
) -> None:
    purchase = await a_purchase("supply", "draft")
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        clerk = Clerk(client)
        failed = await clerk.login("admin", WRONG_PASSWORD)
        logged_in = await clerk.login("admin")
        assert (failed.status_code, logged_in.status_code) == (401, 303)
        page = await clerk.get("/purchases/supply", headers={"X-Request-ID": OFFERED_ID})
        async with open_stream(client) as stream:
            moved = await move(clerk, "supply", purchase["id"], "pending")
            assert moved.status_code == 200
            event_id = int((await stream.next_event()).id or 0)
        session, csrf = client.cookies["session"], client.cookies["csrftoken"]
        responses = [failed, logged_in, page, stream.response, moved]
    log = server.log()
    lines = parsed(log)

    assert page.headers["x-request-id"] == OFFERED_ID
    request_ids = [response.headers["x-request-id"] for response in responses]
    assert len(set(request_ids)) == len(responses)
    for response in responses:
        access_line(lines, response)
    from_requests = [line for line in lines if line["logger"] in REQUEST_LOGGERS]
    assert len(from_requests) > len(responses)
    for line in from_requests:
        assert re.fullmatch(rf"[0-9a-f]{{16}}|{OFFERED_ID}", line.get("request_id", "")), line

    # The login's line, by the id its response carries (a fresh-clone run under load once met a
    # second "login" line in this log, with the test's one login answered: the line of that
    # answer is the one checked).
    [login] = [
        line
        for line in lines
        if line["event"] == "login" and line["request_id"] == logged_in.headers["x-request-id"]
    ]
    assert (login["user"], login["outcome"]) == ("admin", "ok")
    [refused] = [line for line in lines if line["event"] == "login failed"]
    assert refused["request_id"] == failed.headers["x-request-id"]

    [change] = [line for line in lines if line["logger"] == "purchasing.status"]
    assert change["request_id"] == moved.headers["x-request-id"]
    assert {key: change.get(key) for key in ("event_id", "kind", "purchase_id", "invoice")} == {
        "event_id": event_id,
        "kind": "supply",
        "purchase_id": purchase["id"],
        "invoice": purchase["invoice_number"],
    }
    assert (change["user_id"], change["user"]) == (await user_id("admin"), "admin")
    assert (change["from_status"], change["to_status"], change["outcome"]) == (
        "draft",
        "pending",
        "ok",
    )

    for secret in ("admin-demo", WRONG_PASSWORD, session, csrf, SECRET_KEY):
        assert secret not in log
