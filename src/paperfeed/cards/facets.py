"""Card facets in the search syntax: `dataset:LaSOT`, `task:"object tracking"`, `has:code`.

Also `kind:benchmark`, `-has:code`, `no:results`. Owns splitting a typed query
into its facets and the words left for text search. Only these prefixes are
facets; any other `word:` stays text (the text query parser drops the colon),
so no input becomes syntax by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperfeed.card_types import KINDS

__all__ = ["CardFilter", "split_facets"]

# prefix:"quoted value" or prefix:value; straight or typographic quotes; a leading '-' negates has:.
_FACET = re.compile(
    r"""(?<![\w:])(?P<neg>-)?(?P<name>dataset|task|kind|has|no):"""
    r"""(?:["“”](?P<quoted>[^"“”]*)["“”]?|(?P<bare>[^\s"“”]+))""",
    re.IGNORECASE,
)
HAS_VALUES = ("code", "results", "name")
MAX_VALUES = 8
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class CardFilter:
    """What the card facets of a query ask for; empty means no facet was given."""

    datasets: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    has: dict[str, bool] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.datasets or self.tasks or self.kinds or self.has)

    def describe(self) -> str:
        """The facets back in query syntax, for headings and links."""
        parts = [f'dataset:"{d}"' if " " in d else f"dataset:{d}" for d in self.datasets]
        parts += [f'task:"{t}"' if " " in t else f"task:{t}" for t in self.tasks]
        parts += [f"kind:{k}" for k in self.kinds]
        parts += [("has:" if v else "-has:") + k for k, v in self.has.items()]
        return " ".join(parts)


def split_facets(query: str) -> tuple[str, CardFilter]:
    """(the query without its facets, the facets). Unknown kinds and has: values are
    dropped rather than matching nothing, and at most 8 values per facet are kept."""
    datasets: list[str] = []
    tasks: list[str] = []
    kinds: list[str] = []
    has: dict[str, bool] = {}

    def take(match: re.Match[str]) -> str:
        name = match["name"].lower()
        value = (match["quoted"] if match["quoted"] is not None else match["bare"]) or ""
        value = " ".join(value.split())[:MAX_VALUE_CHARS]
        if not value:
            return " "
        if name == "dataset" and len(datasets) < MAX_VALUES:
            datasets.append(value)
        elif name == "task" and len(tasks) < MAX_VALUES:
            tasks.append(value)
        elif name == "kind" and value.lower() in KINDS and value.lower() not in kinds:
            kinds.append(value.lower())
        elif name in ("has", "no") and value.lower() in HAS_VALUES:
            has[value.lower()] = (name == "has") != bool(match["neg"])
        return " "

    rest = _FACET.sub(take, query)
    return " ".join(rest.split()), CardFilter(tuple(datasets), tuple(tasks), tuple(kinds), has)
