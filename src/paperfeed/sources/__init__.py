"""Paper sources: every input format, read into `PaperRecord`s.

Owns the one entry point the rest of paperfeed uses to read files:
`read_records(path)` detects the format (or takes it as given) and streams
records within the file's `InputLimits`; `iter_input_files` expands the paths a
user names. Every problem with an input, a passed cap included, is a
`SourceError` naming the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from paperfeed.records import PaperRecord
from paperfeed.sources.detect import FORMATS, detect_format
from paperfeed.sources.limits import UPLOAD_LIMITS, Budget, InputLimits, default_limits

__all__ = [
    "FORMATS",
    "UPLOAD_LIMITS",
    "InputLimits",
    "default_limits",
    "detect_format",
    "iter_input_files",
    "read_records",
]

_LINE_FORMATS = ("listing", "abstracts", "arxiv-snapshot", "arxiv-daily", "bibtex")


def read_records(
    path: Path | str,
    *,
    format: str | None = None,
    author: str | None = None,
    limits: InputLimits | None = None,
) -> Iterator[PaperRecord]:
    """Stream the papers in a file, in file order.

    `format` (one of `FORMATS`) overrides detection. `author` names the author
    of every paper of a text file (`abstracts`, `listing`), overriding a name
    line in the file. `limits` caps what the file may cost (default:
    `default_limits()`); every cap is checked as the file streams. Raises
    `SourceError` for unreadable or malformed input and for a passed cap,
    `ValueError` for a format name not in `FORMATS`.
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    return _read(Path(path), str(path), format, author, limits)


def _read(path: Path, name: str, format: str | None, author: str | None,
          limits: InputLimits | None) -> Iterator[PaperRecord]:
    limits = limits or default_limits()
    chosen = format or detect_format(path, limits=limits)
    budget = Budget(limits, name)
    for record in _parse(path, name, chosen, author, budget):
        budget.add_record(record)
        yield record


def _parse(path: Path, name: str, chosen: str, author: str | None, budget: Budget
           ) -> Iterator[PaperRecord]:
    # Imported here so that a source's dependencies load only when its format is read.
    from paperfeed.sources import reader

    with reader.open_input(path, budget) as stream:
        if chosen in _LINE_FORMATS:
            lines = reader.stream_lines(stream, budget)
            if chosen == "listing":
                from paperfeed.sources.text import parse_listing

                yield from parse_listing(lines, file=name, author=author)
            elif chosen == "abstracts":
                from paperfeed.sources.text import parse_abstracts

                yield from parse_abstracts(lines, file=name, author=author)
            elif chosen == "arxiv-snapshot":
                from paperfeed.sources.arxiv_json import parse_arxiv_snapshot

                yield from parse_arxiv_snapshot(lines, file=name)
            elif chosen == "arxiv-daily":
                from paperfeed.sources.arxiv_json import parse_arxiv_daily

                yield from parse_arxiv_daily(lines, file=name)
            else:
                from paperfeed.sources.bibtex import parse_bibtex_lines

                yield from parse_bibtex_lines(lines, file=name, budget=budget)
            return
        # XML: parsed from the stream as it inflates, after the binary checks on its head.
        reader.check_binary(stream.peek(reader.HEAD_BYTES)[: reader.HEAD_BYTES], name)
        if chosen == "oai":
            from paperfeed.sources.oai import parse_oai_xml

            yield from parse_oai_xml(stream, file=name)
        elif chosen == "atom":
            from paperfeed.sources.atom import parse_atom_xml

            yield from parse_atom_xml(stream, file=name)
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
