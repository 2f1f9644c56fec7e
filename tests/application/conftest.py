"""A small real catalog (a SQLite store in a temporary folder) with the instant fake
embedder, and a progress recorder, for driving the use cases."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from paperfeed.application.progress import Advance, Step
from paperfeed.catalog import Catalog
from paperfeed.records import Author, PaperRecord
from tests.index.conftest import FakeEmbedder

DAY = datetime.date(2025, 3, 20)
TOPICS = ["graph neural networks for molecules", "speech recognition with transformers",
          "reinforcement learning for robot control", "image segmentation on Cityscapes"]


def paper(i: int, **fields: object) -> PaperRecord:
    values: dict[str, object] = {
        "title": f"Study {i} of {TOPICS[i % 4]}",
        "abstract": f"We revisit {TOPICS[i % 4]} and reach 71.2% accuracy on benchmark {i % 9}.",
        "arxiv_id": f"2503.{i:05d}", "first_listed": DAY - datetime.timedelta(days=i % 3),
        "authors": (Author(name=f"Author {i % 5}"),), "categories": ("cs.LG",),
        **fields}
    return PaperRecord(**values)  # type: ignore[arg-type]


@dataclass
class Recorder:
    """Every step opened, how far each advanced, and the notes, in order."""

    steps: list[Step] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, step: Step) -> Iterator[Advance]:
        self.steps.append(step)
        self.done.setdefault(step.kind, 0)

        def advance(n: int) -> None:
            self.done[step.kind] += n

        yield advance

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def kinds(self) -> list[str]:
        return [s.kind for s in self.steps]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def catalog(data_dir: Path) -> Iterator[Catalog]:
    with Catalog(data_dir, embedder=FakeEmbedder()) as catalog:
        catalog.ingest_records([paper(i) for i in range(24)])
        yield catalog
