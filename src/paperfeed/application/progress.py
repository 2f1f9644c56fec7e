"""How a long use case reports what it is doing: steps with a total and an advance callback.

A use case opens one `Step` at a time (`with progress.step(Step(...)) as advance:`) and
calls `advance(n)` as work gets done. The CLI draws each step as a Rich progress bar
(`cli.render.RichProgress`), the job runner records it as the job's progress, tests
collect it. `QuietProgress` shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

Advance = Callable[[int], None]
StepKind = Literal["harvest", "index", "cards", "vocabulary"]


@dataclass(frozen=True)
class Step:
    """One stage of a use case: what it is, its label for people, and how much is to do."""

    kind: StepKind
    label: str
    total: int | None = None  # None: unknown (a harvest) or not counted (the vocabulary)
    unit: str = "papers"


class Progress(Protocol):
    """Where a use case reports its steps and the notes a person should read."""

    def step(self, step: Step) -> AbstractContextManager[Advance]:
        """A context for one step; the value is the callback taking an increment."""
        ...

    def note(self, message: str) -> None:
        """Something worth telling (e.g. "the index is rebuilt for a new model")."""
        ...


def _ignore(n: int) -> None:
    return None


class QuietProgress:
    """Reports nothing."""

    @contextmanager
    def step(self, step: Step) -> Iterator[Advance]:
        yield _ignore

    def note(self, message: str) -> None:
        return None
