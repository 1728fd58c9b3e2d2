"""Reading the bot's `/metrics`, `/healthz` and `/readyz` over HTTP, as Prometheus and a container platform do.

`scrape(url)` parses the Prometheus text with prometheus-client's own parser; tests compare two scrapes
(`after - before`), because the metrics live as long as the test process, across tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

SampleKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class Samples:
    """Every sample of one scrape, by name and labels; `text` is the body as served."""

    values: dict[SampleKey, float]
    text: str
    content_type: str

    def get(self, name: str, **labels: str) -> float:
        """One sample's value (0 when the scrape has no such sample)."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def label_values(self) -> Iterator[tuple[str, str, str]]:
        """(sample, label, value) for every label of every sample."""
        for name, labels in self.values:
            for label, value in labels:
                yield name, label, value

    def labels_of(self, name: str, label: str) -> set[str]:
        """The values one label takes across a metric's samples."""
        return {value for sample, key, value in self.label_values() if sample == name and key == label}

    def __sub__(self, before: Samples) -> dict[SampleKey, float]:
        """What moved between two scrapes (samples absent before count from 0); unchanged ones left out."""
        moved = {key: value - before.values.get(key, 0.0) for key, value in self.values.items()}
        return {key: delta for key, delta in moved.items() if delta}


def delta(moved: dict[SampleKey, float], name: str, **labels: str) -> float:
    """How much one sample moved."""
    return moved.get((name, frozenset(labels.items())), 0.0)


async def get(url: str) -> tuple[int, str, str]:
    """GET `url`: status, body and content type."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text(), response.headers.get("Content-Type", "")


async def scrape(base_url: str) -> Samples:
    """`GET {base_url}/metrics`, parsed; fails unless it answers 200 in Prometheus' text format."""
    status, text, content_type = await get(f"{base_url}/metrics")
    assert status == 200, (status, text)
    values: dict[SampleKey, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Samples(values, text, content_type)
