"""Safe, streaming access to input files for every source.

Owns opening a path or bytes (plain or gzip, recognised by its magic bytes, any
number of gzip members), decompressing in bounded steps while counting every
byte in and out against the file's `Budget` (so a decompression bomb stops at its cap, never
after inflating), rejecting bad input before any parser sees it (empty, binary,
gzip inside gzip, truncated gzip, invalid UTF-8, absurdly long lines) and handing
out numbered lines. Every problem is a `SourceError` naming the file and, where
it has one, the line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from paperfeed.errors import SourceError
from paperfeed.sources.limits import Budget, InputLimits, default_limits

__all__ = [
    "HEAD_BYTES",
    "MAX_LINE_BYTES",
    "InflatingReader",
    "check_binary",
    "check_head",
    "iter_lines",
    "iter_lines_from_bytes",
    "open_input",
    "read_bytes",
    "read_head",
    "read_text",
    "stream_lines",
]

HEAD_BYTES = 8 * 1024
MAX_LINE_BYTES = InputLimits().max_line_bytes

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_PDF_MAGIC = b"%PDF-"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Decompressed bytes handed out per step.
_CHUNK = 64 * 1024


class _Counted(io.RawIOBase):
    """A raw stream that counts the bytes read from it: the compressed bytes consumed."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.count += n or 0
        return int(n or 0)

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()


class InflatingReader(io.RawIOBase):
    """The decompressed bytes of a raw stream, at most one buffer per read, each read
    reported to the budget (bytes out, compressed bytes in so far), which raises when a
    cap is passed: memory stays at one buffer whatever the file expands to.

    Plain input is passed through. Gzip is the standard library's `GzipFile`
    (members, padding, checks), given a counting stream to read from.
    """

    def __init__(self, raw: BinaryIO, *, packed: bool, budget: Budget) -> None:
        super().__init__()
        self._counted = _Counted(raw)
        self._gzip = gzip.GzipFile(fileobj=self._counted, mode="rb") if packed else None
        self._budget = budget
        budget.gzip = packed

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            if self._gzip is not None:
                self._gzip.close()
            self._counted.close()
        finally:
            super().close()

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        budget = self._budget
        try:
            if self._gzip is None:
                n = self._counted.readinto(buffer)
            else:
                # read1: what one inflate step gives, so an error comes with the line it is in
                data = self._gzip.read1(len(buffer))
                n = len(data)
                buffer[:n] = data
        except EOFError:
            raise SourceError("truncated gzip data: the file ends inside the compressed "
                              f"stream{budget.where()}", file=budget.file) from None
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise SourceError(f"corrupt gzip data: {exc}{budget.where()}",
                              file=budget.file) from None
        if n:
            budget.add_bytes(n, self._counted.count)
        return n


def _open_raw(path: Path) -> io.BufferedReader:
    name = str(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except IsADirectoryError:
        raise SourceError("is a directory, not a file", file=name) from None
    except FileNotFoundError:
        raise SourceError("no such file", file=name) from None
    except OSError as exc:
        raise SourceError(f"cannot open file: {exc.strerror or exc}", file=name) from None
    return raw


def _wrap(raw: BinaryIO, magic: bytes, budget: Budget) -> io.BufferedReader:
    return io.BufferedReader(InflatingReader(raw, packed=magic == _GZIP_MAGIC, budget=budget),
                             buffer_size=_CHUNK)


@contextmanager
def open_input(source: Path | str | bytes, budget: Budget) -> Iterator[io.BufferedReader]:
    """The decompressed byte stream of a path or of bytes, counted by `budget`.

    Gzip is recognised by content, not by name.
    """
    if isinstance(source, bytes):
        raw: BinaryIO = io.BytesIO(source)
        magic = source[:2]
    else:
        opened = _open_raw(Path(source))
        try:
            magic = opened.peek(2)[:2]
        except OSError as exc:
            opened.close()
            raise SourceError(f"cannot read file: {exc.strerror or exc}",
                              file=budget.file) from None
        raw = opened
    stream = _wrap(raw, magic, budget)
    try:
        yield stream
    finally:
        stream.close()


def _budget(limits: InputLimits | None, file: str | None) -> Budget:
    return Budget(limits or default_limits(), file)


def _check_start(start: bytes, file: str | None) -> None:
    """Name the common wrong inputs that a NUL or decoding error would only hint at."""
    if start.startswith(_PDF_MAGIC):
        raise SourceError("PDF file, not a paper metadata format", file=file)
    if start.startswith(_UTF16_BOMS):
        raise SourceError("UTF-16 text: save the file as UTF-8", file=file)
    if start.startswith(_GZIP_MAGIC):
        raise SourceError("gzip inside gzip: decompress the file once and ingest that",
                          file=file)


def check_binary(head: bytes, file: str | None) -> None:
    """Reject binary input (and name PDF, UTF-16 and double gzip) from its first bytes."""
    _check_start(head, file)
    if b"\x00" in head:
        raise SourceError("binary file, not a paper format", file=file)


def check_head(head: bytes, complete: bool, file: str | None) -> None:
    """Reject empty and binary input from its first bytes."""
    body = head[len(_BOM) :] if head.startswith(_BOM) else head
    if not body.strip() and complete:
        raise SourceError("file is empty", file=file)
    check_binary(head, file)


def read_head(
    path: Path | str, size: int = HEAD_BYTES, *, limits: InputLimits | None = None
) -> bytes:
    """The first `size` decompressed bytes of a file, after the empty and binary checks."""
    budget = _budget(limits, str(path))
    with open_input(Path(path), budget) as stream:
        head = stream.read(size)
    check_head(head, len(head) < size, budget.file)
    return head


def _decode(line: bytes, file: str | None, lineno: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"invalid UTF-8 at byte {exc.start + 1} of the line", file=file, line=lineno
        ) from None


def stream_lines(stream: io.BufferedReader, budget: Budget) -> Iterator[tuple[int, str]]:
    """`(line number, text)` of a decompressed stream, each line reported to `budget`."""
    file = budget.file
    max_line_bytes = budget.limits.max_line_bytes
    setting = budget.limits.setting("max_line_bytes")
    readline = stream.readline
    add_line = budget.add_line
    lineno = 0
    offset = 0
    has_content = False
    while True:
        # The size limit keeps a newline-free (binary or minified) file from filling memory.
        line = readline(max_line_bytes + 1)
        if not line:
            break
        lineno += 1
        add_line(lineno)
        if lineno == 1:
            _check_start(line, file)
            if line.startswith(_BOM):
                line = line[len(_BOM) :]
        if b"\x00" in line:
            if offset < HEAD_BYTES:
                raise SourceError("binary file, not a paper format", file=file)
            raise SourceError("NUL byte in the line", file=file, line=lineno)
        offset += len(line)
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            raise SourceError(
                f"line longer than {max_line_bytes} bytes ({setting} raises the cap)",
                file=file, line=lineno)
        text = _decode(line, file, lineno).rstrip("\r\n")
        if not has_content and text.strip():
            has_content = True
        yield lineno, text
    if not has_content:
        raise SourceError("file is empty", file=file)


def iter_lines(
    path: Path | str, *, max_line_bytes: int | None = None, limits: InputLimits | None = None,
    budget: Budget | None = None,
) -> Iterator[tuple[int, str]]:
    """Stream `(line number, text)` pairs, 1-based, without line endings.

    Decodes strictly, one line at a time, so an encoding error names its line.
    `budget` (else a fresh one for `limits`) counts the bytes and lines;
    `max_line_bytes` overrides its line cap.
    """
    budget = budget or _budget(limits, str(path))
    if max_line_bytes is not None:
        from dataclasses import replace

        budget.limits = replace(budget.limits, max_line_bytes=max_line_bytes)
    with open_input(Path(path), budget) as stream:
        yield from stream_lines(stream, budget)


def iter_lines_from_bytes(
    data: bytes, *, file: str | None = None, max_line_bytes: int | None = None,
    limits: InputLimits | None = None,
) -> Iterator[tuple[int, str]]:
    """`iter_lines` for content already in memory (plain or gzip bytes)."""
    budget = _budget(limits, file)
    if max_line_bytes is not None:
        from dataclasses import replace

        budget.limits = replace(budget.limits, max_line_bytes=max_line_bytes)
    with open_input(data, budget) as stream:
        yield from stream_lines(stream, budget)


def read_text(
    path: Path | str, *, max_line_bytes: int | None = None, limits: InputLimits | None = None
) -> str:
    """The whole file as text, with the same checks and caps as `iter_lines` (small files)."""
    return "\n".join(text for _, text in iter_lines(path, max_line_bytes=max_line_bytes,
                                                        limits=limits))


def read_bytes(path: Path | str, *, limits: InputLimits | None = None) -> bytes:
    """The whole decompressed file (within the caps), after the empty, binary and gzip checks."""
    budget = _budget(limits, str(path))
    with open_input(Path(path), budget) as stream:
        data = stream.read()
    check_head(data[:HEAD_BYTES], len(data) < HEAD_BYTES, budget.file)
    return data
