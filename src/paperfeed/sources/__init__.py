"""Paper sources: every input format, read into `PaperRecord`s.

Owns the one entry point the rest of paperfeed uses to read files:
`read_records(path)` detects the format (or takes it as given) and streams
records; `iter_input_files` expands the paths a user names. Every problem with
an input is a `SourceError` naming the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from paperfeed.records import PaperRecord
from paperfeed.sources.detect import FORMATS, detect_format

__all__ = ["FORMATS", "detect_format", "iter_input_files", "read_records"]


def read_records(
    path: Path | str, *, format: str | None = None, author: str | None = None
) -> Iterator[PaperRecord]:
    """Stream the papers in a file, in file order.

    `format` (one of `FORMATS`) overrides detection. `author` names the author
    of every paper of a text file (`abstracts`, `listing`), overriding a name
    line in the file. Raises `SourceError` for unreadable or malformed input,
    `ValueError` for a format name not in `FORMATS`.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    return _read(Path(path), str(path), format, author)


def _read(path: Path, name: str, format: str | None, author: str | None) -> Iterator[PaperRecord]:
    # Imported here so that a source's dependencies load only when its format is read.
    from paperfeed.sources import reader

    chosen = format or detect_format(path)
    if chosen == "listing":
        from paperfeed.sources.text import parse_listing

        yield from parse_listing(reader.iter_lines(path), file=name, author=author)
    elif chosen == "abstracts":
        from paperfeed.sources.text import parse_abstracts

        yield from parse_abstracts(reader.iter_lines(path), file=name, author=author)
    elif chosen == "arxiv-snapshot":
        from paperfeed.sources.arxiv_json import parse_arxiv_snapshot

        yield from parse_arxiv_snapshot(reader.iter_lines(path), file=name)
    elif chosen == "arxiv-daily":
        from paperfeed.sources.arxiv_json import parse_arxiv_daily

        yield from parse_arxiv_daily(reader.iter_lines(path), file=name)
    elif chosen == "bibtex":
        from paperfeed.sources.bibtex import parse_bibtex

        yield from parse_bibtex(reader.read_text(path), file=name)
    elif chosen == "oai":
        from paperfeed.sources.oai import parse_oai_xml

        yield from parse_oai_xml(reader.read_bytes(path), file=name)
    elif chosen == "atom":
        from paperfeed.sources.atom import parse_atom_xml

        yield from parse_atom_xml(reader.read_bytes(path), file=name)
    else:  # pragma: no cover - FORMATS and this dispatch are kept in step
        raise AssertionError(f"no reader for format {chosen!r}")


def _walk(directory: Path) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        yield directory  # unreadable: let read_records report it
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        else:
            yield Path(entry.path)


def iter_input_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to read for the given paths: files as given, directories expanded.

    Directories are walked recursively in sorted order (entries by name, a
    subdirectory's files where its name sorts), skipping hidden files and
    directories. Paths that do not exist and files of no known format are
    passed on, for `read_records` to reject with a `SourceError`.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path
