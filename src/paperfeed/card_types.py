"""The values of a system card: what a paper proposes and reports, with no behaviour.

Owns `Card`, `Result`, `Span` and the `Tagger` protocol that the extraction
modules share. A card is extracted from a paper's title, abstract and comment
(`cards.extract`), stored with the paper (`store.cards`) and shown everywhere. It
sits below the store (like `records`), so the store keeps cards without importing
the `cards` package that makes them; `paperfeed.cards.model` re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["KINDS", "SPAN_LABELS", "Card", "Kind", "Result", "Span", "Tagger"]

Kind = Literal[
    "method", "framework", "model", "benchmark", "dataset", "survey", "analysis", "attack",
    "defense",
]
KINDS: tuple[Kind, ...] = (
    "method", "framework", "model", "benchmark", "dataset", "survey", "analysis", "attack",
    "defense",
)
# The entity types a learned tagger marks in a sentence.
SPAN_LABELS = ("TASK", "DATASET", "METHOD", "METRIC")


@dataclass(frozen=True)
class Span:
    """A tagged phrase: `text == sentence[start:end]`, character offsets into one sentence."""

    label: str
    start: int
    end: int
    text: str


class Tagger(Protocol):
    """Anything that marks TASK / DATASET / METHOD / METRIC phrases in sentences."""

    def tag(self, sentences: Sequence[str]) -> list[list[Span]]:
        """One list of spans per sentence, in order."""
        ...


@dataclass(frozen=True)
class Result:
    """One reported figure, as written ("66.1%"), what it measures, and where it was said."""

    value: str
    claim: str
    sentence: str
    dataset: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "claim": self.claim, "sentence": self.sentence,
                "dataset": self.dataset}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(value=str(data["value"]), claim=str(data.get("claim") or ""),
                   sentence=str(data.get("sentence") or ""), dataset=data.get("dataset"))


@dataclass(frozen=True)
class Card:
    """What a paper proposes (`name`, `kind`), for which tasks, on which data, with what results.

    `version` is the extractor version that made it: a card older than the
    running extractor is refreshed.
    """

    name: str | None
    kind: Kind
    tasks: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    results: tuple[Result, ...] = ()
    code_urls: tuple[str, ...] = ()
    version: int = 0
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "tasks": list(self.tasks),
            "datasets": list(self.datasets), "results": [r.to_json() for r in self.results],
            "code_urls": list(self.code_urls), "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        kind = data.get("kind")
        return cls(
            name=data.get("name"),
            kind=kind if kind in KINDS else "method",
            tasks=tuple(data.get("tasks") or ()),
            datasets=tuple(data.get("datasets") or ()),
            results=tuple(Result.from_json(r) for r in data.get("results") or ()),
            code_urls=tuple(data.get("code_urls") or ()),
            version=int(data.get("version") or 0),
        )
