"""Error types shared by every capability.

Each error names where the problem is (file, line or record, field) so that the
CLI can print it on one readable line.
"""

from __future__ import annotations


class PaperfeedError(Exception):
    """Base of every error paperfeed raises on purpose."""


class SourceError(PaperfeedError):
    """Input that a parser cannot read: names the file and the line or record."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class StoreError(PaperfeedError):
    """The store could not be opened, migrated or written."""


class HarvestError(PaperfeedError):
    """A harvest could not go on (server refused, retries exhausted, bad response)."""


class ModelUnavailableError(PaperfeedError):
    """No sentence model could be found at a configured path, in a package or on the hub."""


class IndexStaleError(PaperfeedError):
    """An index was built from another store state or model than the current one."""
