"""Reading `/metrics` the way Prometheus does."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Metrics:
    """One scrape: `value("purchasing_status_changes_total", kind="feed", outcome="ok")`."""

    def __init__(self, text: str) -> None:
        self.samples = [
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        ]

    def gauge(self, name: str) -> float:
        """The one sample named `name`; fails when the scrape has none."""
        (value,) = [sample.value for sample in self.samples if sample.name == name]
        return value

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named `name` whose labels include `labels` (0 when none: a
        counter with those labels may not have moved yet)."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )


async def scrape(client: httpx.AsyncClient) -> Metrics:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Metrics(response.text)
