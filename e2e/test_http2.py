"""HTTP/2, the second line of defence: served by Hypercorn over TLS as the README shows, a
browser without stream sharing still loads every tab, each with a stream of its own."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from playwright.sync_api import Browser, expect

from e2e.pages import HOLDS_STREAM, WITHOUT_WEB_LOCKS, IndexPage, LoginPage, index_tab, open_streams
from tests.helpers.servers import LiveServer, serving

TABS = 10


class Http2Server(LiveServer):
    """`hypercorn --certfile ... --keyfile ... 'purchasing.serving:create_served_app()'`, with a
    certificate from a throwaway certificate authority."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        authority = trustme.CA()
        self.certificate = directory / "server.pem"
        authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            self.certificate
        )
        self.verify = ssl.create_default_context()
        authority.configure_trust(self.verify)
        self.url = f"https://127.0.0.1:{self.port}"

    def serve_command(self, *serve_args: str) -> list[str]:
        certificate = str(self.certificate)
        return [
            *(sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{self.port}"),
            *("--certfile", certificate, "--keyfile", certificate, *serve_args),
            "purchasing.serving:create_served_app()",
        ]


@pytest.fixture(scope="module")
def http2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http2Server]:
    yield from serving(Http2Server(tmp_path_factory.mktemp("http2")), per_kind=10)


def test_the_app_answers_over_http2(http2_server: Http2Server) -> None:
    with httpx.Client(http2=True, verify=http2_server.verify) as client:
        response = client.get(f"{http2_server.url}/login")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"


def test_ten_tabs_with_a_stream_each_all_load_over_http2(
    browser: Browser, http2_server: Http2Server
) -> None:
    context = browser.new_context(base_url=http2_server.url, ignore_https_errors=True)
    context.add_init_script(script=WITHOUT_WEB_LOCKS)  # no sharing: one stream per tab
    try:
        first = context.new_page()
        LoginPage(first).login("manager")
        first.close()
        invoice = http2_server.fresh_purchase("supply")
        kinds = ("supply", "feed", "livestock")
        indexes = [index_tab(context, kinds[n % 3], f"?q={invoice}") for n in range(TABS)]
        protocol = "() => performance.getEntriesByType('navigation')[0].nextHopProtocol"
        assert {index.page.evaluate(protocol) for index in indexes} == {"h2"}
        assert [index.page.evaluate(HOLDS_STREAM) for index in indexes] == [1] * TABS
        open_streams(http2_server, TABS)  # over HTTP/1.1 the 7th tab would not even load

        # Every tab is live: a change made from another tab reaches each supply tab.
        supply = [index for index in indexes if index.kind == "supply"]
        changer = IndexPage(context.new_page(), "supply").open(f"?q={invoice}")
        changer.change_status(invoice, "Pending")
        for index in supply:
            index.expect_status(invoice, "pending")
            expect(index.page.get_by_test_id("toast")).to_have_count(1)
    finally:
        context.close()
