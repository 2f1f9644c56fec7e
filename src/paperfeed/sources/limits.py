"""The caps on what one input file may cost, and the running count against them.

Owns `InputLimits` (how many decompressed bytes, how much expansion per
compressed byte, how many lines and papers, and how far apart papers may be;
defaults fit the operator's bulk files, environment variables override them)
and `Budget`, the per-file counter the reader and the parsers report to as the
stream goes. Every cap that trips is a `SourceError` naming the file, the line
where there is one, the cap and the setting that raises it.
docs/decisions/input-limits.md has the measurements behind the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord
from paperfeed.settings import SettingsError

__all__ = [
    "BATCH_WEIGHT",
    "ENV_PREFIX",
    "RECORDS_GRACE",
    "UPLOAD_LIMITS",
    "Budget",
    "InputLimits",
    "bounded_batches",
    "format_size",
    "record_weight",
]

# Papers a file may give before `max_records_per_mb` is checked (a small file is fine).
RECORDS_GRACE = 10_000
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
ENV_PREFIX = "PAPERFEED_INPUT_"


def format_size(n: int) -> str:
    """A byte count for people: 1.0MiB, 16.0GiB, 500B."""
    from pydantic import ByteSize

    return ByteSize(n).human_readable()


def _parse_size(name: str, raw: str) -> int:
    text = raw.strip()
    if text.isdigit():
        return int(text)
    # pydantic (already installed for the web app) reads "64MiB", "1.5 GB", "512k".
    from pydantic import ByteSize, TypeAdapter, ValidationError

    try:
        return int(TypeAdapter(ByteSize).validate_python(text))
    except ValidationError:
        raise SettingsError(f"{name}: expected a size such as 64MiB, 2GB or a number of "
                            f"bytes, got {raw!r}") from None


def _parse_count(name: str, raw: str) -> int:
    text = raw.strip().replace("_", "").replace(",", "")
    if not text.isdigit():
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}")
    return int(text)


def _parse_ratio(name: str, raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}: expected a number such as 20, got {raw!r}") from None
    if not value >= 1:  # also refuses nan
        raise SettingsError(f"{name}: expected a number of at least 1, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Caps on one input file, all checked while it streams (never after reading it all).

    Each field is set by the environment variable `PAPERFEED_INPUT_<FIELD IN CAPITALS>`
    (see `from_env`); `env_prefix` is the prefix error messages name, so a caller with
    its own set of limits (the web upload) can point at its own variables.
    """

    # Decompressed bytes in one file. The arXiv bulk snapshot is ~4.5 GB.
    max_bytes: int = 16 * GiB
    # Decompressed bytes per compressed byte of a gzip file, checked continuously once
    # `ratio_grace` bytes have come out. Real paper files are 2-4.1x; bombs 100-1000x.
    max_ratio: float = 20.0
    ratio_grace: int = 1 * MiB
    # One line (a JSON record, a paragraph line).
    max_line_bytes: int = 1 * MiB
    # Lines in one file: the snapshot has 2.6M.
    max_lines: int = 100_000_000
    # Papers in one file.
    max_records: int = 10_000_000
    # Papers per MB (10^6 bytes) of the file as stored (compressed, if it is), checked
    # once it has given RECORDS_GRACE papers: storing a paper costs ~0.1 ms whatever its
    # size, so this is what bounds the time per MB. Real files: 0.7k-3.5k per MB.
    max_records_per_mb: int = 50_000
    # Authors of one paper: the largest real author lists are ~5,100 (ATLAS+CMS).
    max_authors: int = 10_000
    # How far apart papers may be: runs of blank lines, page chrome, comments or deleted
    # records that yield nothing. A real file's longest run is a few hundred lines.
    max_lines_between_records: int = 10_000
    max_bytes_between_records: int = 16 * MiB
    env_prefix: str = ENV_PREFIX

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "env_prefix" and not value >= 1:
                raise ValueError(f"InputLimits.{item.name} must be at least 1, got {value!r}")

    def setting(self, name: str) -> str:
        """The environment variable that sets field `name`."""
        return f"{self.env_prefix}{name.upper()}"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        base: InputLimits | None = None,
        prefix: str = ENV_PREFIX,
    ) -> InputLimits:
        """`base` (default: the bulk defaults) with every `<prefix><FIELD>` variable applied.

        Sizes take units (`64MiB`, `2GB`), counts digits (`_` and `,` allowed), the
        ratio a number >= 1. A value that is not one raises `SettingsError` naming it.
        """
        env = os.environ if env is None else env
        base = base or cls()
        changes: dict[str, int | float] = {}
        for item in fields(cls):
            if item.name == "env_prefix":
                continue
            name = f"{prefix}{item.name.upper()}"
            raw = env.get(name)
            if raw is None or not raw.strip():
                continue
            if item.name == "max_ratio":
                value: int | float = _parse_ratio(name, raw)
            elif "bytes" in item.name or item.name == "ratio_grace":
                value = _parse_size(name, raw)
            else:
                value = _parse_count(name, raw)
            if value < 1:
                raise SettingsError(f"{name}: expected at least 1, got {raw!r}")
            changes[item.name] = value
        return replace(base, env_prefix=prefix, **changes)  # type: ignore[arg-type]


# For files that strangers upload through the web app: a publication list, not a dump.
UPLOAD_LIMITS = InputLimits(
    max_bytes=32 * MiB,
    max_records=500,
    max_lines=1_000_000,
    max_lines_between_records=2_000,
    max_bytes_between_records=4 * MiB,
    env_prefix="PAPERFEED_UPLOAD_",
)


class Budget:
    """What one file has used so far; the reader and the parsers report to it as they go.

    `bytes` and `consumed` are the decompressed bytes handed out and the compressed
    bytes they came from; `line` the line being read (for error messages), `records`
    the papers yielded. Any report that passes a cap raises `SourceError`.
    """

    __slots__ = (
        "bytes",
        "bytes_at_record",
        "consumed",
        "file",
        "gzip",
        "limits",
        "line",
        "lines_at_record",
        "records",
        "track_lines",
    )

    def __init__(self, limits: InputLimits, file: str | None) -> None:
        self.limits = limits
        self.file = file
        self.bytes = 0
        self.consumed = 0
        self.gzip = False
        self.line: int | None = None
        self.records = 0
        self.lines_at_record = 0
        self.bytes_at_record = 0
        # Line-fed parsers are checked per line; BibTeX checks its own runs per block.
        self.track_lines = True

    def where(self) -> str:
        """", after line N" when lines are being read, for errors found between lines."""
        return f", after line {self.line:,}" if self.line else ""

    def error(self, message: str, setting: str, line: int | None = None) -> SourceError:
        return SourceError(f"{message} ({self.limits.setting(setting)} raises the cap)",
                           file=self.file, line=line)

    def add_bytes(self, produced: int, consumed: int) -> None:
        """`produced` more decompressed bytes, from `consumed` compressed bytes in total."""
        limits = self.limits
        self.bytes += produced
        self.consumed = consumed
        if self.bytes > limits.max_bytes:
            raise self.error(f"more than {format_size(limits.max_bytes)} of data"
                             f"{self.where()}", "max_bytes")
        if (self.gzip and self.bytes > limits.ratio_grace
                and self.bytes > limits.max_ratio * consumed):
            raise self.error(
                f"gzip data expands more than {limits.max_ratio:g}x ({self.bytes:,} bytes "
                f"from {consumed:,} compressed{self.where()}): a decompression bomb?",
                "max_ratio")
        if self.bytes - self.bytes_at_record > limits.max_bytes_between_records:
            raise self.error(
                f"more than {format_size(limits.max_bytes_between_records)} without a paper"
                f"{self.where()}", "max_bytes_between_records")

    def add_line(self, lineno: int) -> None:
        """Line `lineno` is being handed to a parser."""
        self.line = lineno
        if lineno > self.limits.max_lines:
            raise self.error(f"more than {self.limits.max_lines:,} lines", "max_lines",
                             line=lineno)
        if self.track_lines and lineno - self.lines_at_record > \
                self.limits.max_lines_between_records:
            raise self.error(
                f"more than {self.limits.max_lines_between_records:,} lines without a paper",
                "max_lines_between_records", line=lineno)

    def check_gap(self, previous_line: int, line: int) -> None:
        """For parsers that see whole blocks: no more than the cap between two papers."""
        cap = self.limits.max_lines_between_records
        if line - previous_line > cap:
            raise self.error(f"more than {cap:,} lines without a paper",
                             "max_lines_between_records", line=previous_line + cap + 1)

    def add_record(self, record: PaperRecord) -> None:
        """`record` is about to be handed out."""
        line = record.provenance[0].line if record.provenance else None
        self.records += 1
        limits = self.limits
        if len(record.authors) > limits.max_authors:
            raise SourceError(
                f"{len(record.authors):,} authors, more than {limits.max_authors:,} "
                f"({limits.setting('max_authors')} raises the cap)",
                file=self.file, line=line, field="authors")
        if self.records > limits.max_records:
            raise self.error(f"more than {limits.max_records:,} papers", "max_records",
                             line=line)
        if self.records > RECORDS_GRACE and \
                self.records > limits.max_records_per_mb * self.consumed / 1e6:
            raise self.error(
                f"more than {limits.max_records_per_mb:,} papers per MB of file "
                f"({self.records:,} papers from {self.consumed:,} bytes): tiny papers "
                "packed densely, as only a generated file has them", "max_records_per_mb",
                line=line)
        self.lines_at_record = self.line or 0
        self.bytes_at_record = self.bytes


# Roughly the bytes a record holds while the store writes it: its text, and per author
# ~1 KB (measured: 4.5M authors in 1,000-record batches peaked at 5.5 GB).
_AUTHOR_WEIGHT = 1000
_ITEM_WEIGHT = 100
BATCH_WEIGHT = 32 * MiB


def record_weight(record: PaperRecord) -> int:
    """About how many bytes `record` occupies until its batch is written."""
    return (len(record.title) + len(record.abstract) + len(record.comment or "")
            + len(record.journal_ref or "") + _AUTHOR_WEIGHT * len(record.authors)
            + _ITEM_WEIGHT * (len(record.categories) + len(record.code_urls)
                              + len(record.source_ids) + len(record.provenance)))


def bounded_batches(
    records: Iterable[PaperRecord], *, size: int, weight: int = BATCH_WEIGHT
) -> Iterator[list[PaperRecord]]:
    """`records` in lists of at most `size` records and about `weight` bytes (at least one):
    what a store may hold in memory at once, whatever the records are like."""
    batch: list[PaperRecord] = []
    held = 0
    try:
        for record in records:
            batch.append(record)
            held += record_weight(record)
            if len(batch) >= size or held >= weight:
                yield batch
                batch, held = [], 0
    except Exception:
        # A bad line: what was read before it is still handed out (and stored), then the
        # error goes on, as the guide promises.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def default_limits() -> InputLimits:
    """The bulk defaults with the `PAPERFEED_INPUT_*` environment variables applied."""
    return InputLimits.from_env()
