"""Safe, streaming access to input files for every source.

Owns opening a path (plain or gzip, recognised by its magic bytes), rejecting
bad input before any parser sees it (empty, binary, truncated gzip, invalid
UTF-8, absurdly long lines) and handing out numbered lines. Every problem is a
`SourceError` naming the file and, where it has one, the line.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path

from paperfeed.errors import SourceError

__all__ = [
    "HEAD_BYTES",
    "MAX_LINE_BYTES",
    "iter_lines",
    "iter_lines_from_bytes",
    "read_bytes",
    "read_head",
    "read_text",
]

HEAD_BYTES = 8 * 1024
MAX_LINE_BYTES = 1024 * 1024

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_PDF_MAGIC = b"%PDF-"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# What a broken or cut-off gzip stream raises while it is being read.
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _open(path: Path) -> io.BufferedIOBase:
    """The decompressed byte stream of `path` (gzip recognised by content, not by name)."""
    name = str(path)
    try:
        raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except IsADirectoryError:
        raise SourceError("is a directory, not a file", file=name) from None
    except FileNotFoundError:
        raise SourceError("no such file", file=name) from None
    except OSError as exc:
        raise SourceError(f"cannot open file: {exc.strerror or exc}", file=name) from None
    try:
        magic = raw.peek(2)[:2]
    except OSError as exc:
        raw.close()
        raise SourceError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def _open_bytes(data: bytes) -> io.BufferedIOBase:
    stream = io.BytesIO(data)
    if data[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream


def _check_start(start: bytes, file: str | None) -> None:
    """Name the common wrong inputs that a NUL or decoding error would only hint at."""
    if start.startswith(_PDF_MAGIC):
        raise SourceError("PDF file, not a paper metadata format", file=file)
    if start.startswith(_UTF16_BOMS):
        raise SourceError("UTF-16 text: save the file as UTF-8", file=file)


def _check_head(head: bytes, complete: bool, file: str | None) -> None:
    """Reject empty and binary input from its first bytes."""
    body = head[len(_BOM) :] if head.startswith(_BOM) else head
    if not body.strip() and complete:
        raise SourceError("file is empty", file=file)
    _check_start(head, file)
    if b"\x00" in head:
        raise SourceError("binary file, not a paper format", file=file)


def _read_checked(stream: io.BufferedIOBase, size: int, file: str | None) -> bytes:
    try:
        return stream.read(size)
    except _GZIP_ERRORS as exc:
        raise SourceError(f"truncated or corrupt gzip data: {exc}", file=file) from None


def read_head(path: Path | str, size: int = HEAD_BYTES) -> bytes:
    """The first `size` decompressed bytes of a file, after the empty and binary checks."""
    name = str(path)
    with _open(Path(path)) as stream:
        head = _read_checked(stream, size, name)
    _check_head(head, len(head) < size, name)
    return head


def _decode(line: bytes, file: str | None, lineno: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"invalid UTF-8 at byte {exc.start + 1} of the line", file=file, line=lineno
        ) from None


def _stream_lines(
    stream: io.BufferedIOBase, file: str | None, max_line_bytes: int
) -> Iterator[tuple[int, str]]:
    lineno = 0
    offset = 0
    has_content = False
    try:
        while True:
            # The size limit keeps a newline-free (binary or minified) file from filling memory.
            line = stream.readline(max_line_bytes + 1)
            if not line:
                break
            lineno += 1
            if lineno == 1:
                _check_start(line, file)
            if b"\x00" in line:
                if offset < HEAD_BYTES:
                    raise SourceError("binary file, not a paper format", file=file)
                raise SourceError("NUL byte in the line", file=file, line=lineno)
            offset += len(line)
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                raise SourceError(
                    f"line longer than {max_line_bytes} bytes", file=file, line=lineno
                )
            if lineno == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            text = _decode(line, file, lineno).rstrip("\r\n")
            if not has_content and text.strip():
                has_content = True
            yield lineno, text
    except _GZIP_ERRORS as exc:
        raise SourceError(
            f"truncated or corrupt gzip data after line {lineno}: {exc}", file=file
        ) from None
    if not has_content:
        raise SourceError("file is empty", file=file)


def iter_lines(
    path: Path | str, *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, str]]:
    """Stream `(line number, text)` pairs, 1-based, without line endings.

    Decodes strictly, one line at a time, so an encoding error names its line.
    """
    name = str(path)
    with _open(Path(path)) as stream:
        yield from _stream_lines(stream, name, max_line_bytes)


def iter_lines_from_bytes(
    data: bytes, *, file: str | None = None, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, str]]:
    """`iter_lines` for content already in memory (plain or gzip bytes)."""
    with _open_bytes(data) as stream:
        yield from _stream_lines(stream, file, max_line_bytes)


def read_text(path: Path | str, *, max_line_bytes: int = MAX_LINE_BYTES) -> str:
    """The whole file as text, with the same checks as `iter_lines` (for small formats)."""
    return "\n".join(text for _, text in iter_lines(path, max_line_bytes=max_line_bytes))


def read_bytes(path: Path | str) -> bytes:
    """The whole decompressed file, after the empty, binary and gzip checks (for XML)."""
    name = str(path)
    with _open(Path(path)) as stream:
        data = _read_checked(stream, -1, name)
    _check_head(data[:HEAD_BYTES], len(data) < HEAD_BYTES, name)
    return data
