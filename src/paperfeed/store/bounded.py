"""Column types that keep every bound string inside its column: the one place widths hold.

SQLite never enforces `VARCHAR(n)`; PostgreSQL refuses a longer value, failing the whole
statement (an ingest batch, a web request). Twice the real corpus found such a value
(free-text categories, a whole author list as one name). Rather than a clip at each
write, every width-limited column is a `BoundedString`: a string bound to it (inserted,
updated, or compared in a WHERE) keeps its first `length` characters, on both databases
alike, so a value is looked up the same way it was written and SQLite stores what
PostgreSQL would. Values that must not be cut are checked before they get here (the
store's `fit_record`; the web forms' `max_length`); this is the guard behind them.

`max_bytes` also caps the UTF-8 size: PostgreSQL's B-tree refuses an index entry over
about 2,700 bytes, which a few hundred four-byte characters in a wide indexed column
reach although they fit its character width (docs/decisions/column-widths.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def clip(value: str, length: int | None, max_bytes: int | None = None) -> str:
    """`value`'s first `length` characters, and at most `max_bytes` of UTF-8 (never
    half a character)."""
    if length is not None and len(value) > length:
        value = value[:length]
    if max_bytes is not None and len(value) * 4 > max_bytes:
        encoded = value.encode("utf-8", "surrogatepass")
        if len(encoded) > max_bytes:
            value = encoded[:max_bytes].decode("utf-8", "ignore")
    return value


class BoundedString(TypeDecorator[str]):
    """`String(length)` whose bound values are clipped to `length` characters (and
    `max_bytes` UTF-8 bytes when given)."""

    impl = String
    cache_ok = True

    def __init__(self, length: int, *, max_bytes: int | None = None) -> None:
        super().__init__(length)
        self.length = length
        self.max_bytes = max_bytes

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str):
            return clip(value, self.length, self.max_bytes)
        return value


class BoundedText(TypeDecorator[str]):
    """`Text` (no width in the schema) whose bound values are clipped to `max_bytes`
    UTF-8 bytes: for a text column inside a unique index."""

    impl = Text
    cache_ok = True

    def __init__(self, *, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str):
            return clip(value, None, self.max_bytes)
        return value
