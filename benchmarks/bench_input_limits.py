"""Decompression bombs of every shape against `paperfeed ingest`: memory and time per input.

Usage:
    PYTHONPATH=src python benchmarks/bench_input_limits.py [--size-mb 1] [--only NAME ...]
        [--legit ../shared/data/arxiv-daily-cs/arxiv_daily_cs_unique.jsonl.gz ...]
        [--timeout-per-mb 120] [--keep DIR]

Each input is generated here (about `--size-mb` of gzip, streamed through zlib so that
no bomb is ever inflated by this script), then ingested by `paperfeed ingest --no-index
--json` in a SUBPROCESS with a fresh data folder (--no-index: parse and store only; the
index would load the embedding model). For each it prints the compressed size, the
outcome (papers stored, or the error), the subprocess's peak RSS (from `os.wait4`),
wall seconds and seconds per compressed MB, next to the same figures for real files
from ../shared/data ingested in the same run. The acceptance line is 600 MB RSS and
60 s per compressed MB; a process still running at `--timeout-per-mb` x MB (at least
120 s) is killed and reported as such. The `paperfeed` command and PYTHONPATH of this
interpreter are the ones measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
MB = 1_000_000
RSS_CAP_MB = 600
SECONDS_PER_MB_CAP = 60

Chunks = Iterable[bytes]


def _record(n: int, title: str | None = None, abstract: str = "",
            authors: list[str] | None = None) -> bytes:
    month = n // 99999
    arxiv_id = f"{15 + month // 12 % 10}{month % 12 + 1:02d}.{n % 99999 + 1:05d}"
    record: dict[str, object] = {"id": arxiv_id, "title": title or f"paper {n}",
                                 "abstract": abstract}
    if authors:
        record["authors"] = authors
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


_NAMES = random.Random(3)
_BLANK_RNG = random.Random(9)
# Blank lines in random order (no repeats within gzip's 32 KB window).
_BLANKS = b"".join(_BLANK_RNG.choice([b"\n", b" \n", b"\t\n"]) for _ in range(400_000))
_BLANK_STARTS = [i + 1 for i, c in enumerate(_BLANKS) if c == 10][:-10_000]


def _blank_run(n: int, lines: int) -> bytes:
    start = _BLANK_STARTS[n * lines % len(_BLANK_STARTS)]
    end = _BLANKS.find(b"\n", start + lines)  # at least `lines` bytes, at most 3x: ~2x lines
    return _BLANKS[start : end + 1]


def names(n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [" ".join("".join(_NAMES.choice(letters) for _ in range(7)).title()
                     for _ in range(2)) for _ in range(n)]


def write_gzip(path: Path, chunks: Chunks, target: int, *, level: int = 9) -> int:
    """Compress `chunks` into `path` until the output reaches `target` bytes (or they end)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    written = 0
    with path.open("wb") as out:
        for chunk in chunks:
            data = packer.compress(chunk)
            out.write(data)
            written += len(data)
            if written >= target:
                break
        out.write(packer.flush())
    return path.stat().st_size


def repeat(head: bytes, body: bytes) -> Iterator[bytes]:
    yield head
    block = body * max(1, (1 << 20) // len(body))
    while True:
        yield block


def after(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from chunks


def records(make: Callable[[int], bytes]) -> Iterator[bytes]:
    """Records `make(0)`, `make(1)` ... in chunks of about 1 MB (this process stays small:
    a child's peak RSS counts the parent's pages it was forked with)."""
    numbers = count()
    while True:
        chunk: list[bytes] = []
        size = 0
        while size < MB:
            chunk.append(make(next(numbers)))
            size += len(chunk[-1])
        yield b"".join(chunk)


def tuned_authors(ratio: float) -> Callable[[int], bytes]:
    """Records of 10,000 authors, mostly one name and some random ones, so that the
    stream gzips at about `ratio`: the most author rows per compressed byte under the cap."""
    rng = random.Random(5)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def make(share: float) -> Callable[[int], bytes]:
        return lambda n: _record(n, authors=[
            "".join(rng.choice(letters) for _ in range(3)) if rng.random() < share else "A"
            for _ in range(10_000)])

    share = 1.0
    for step in range(40):
        trial = 0.95 ** step
        sample = b"".join(make(trial)(n) for n in range(20))
        if len(sample) / len(gzip.compress(sample, 9)) > ratio:
            break
        share = trial
    return make(share)


def tuned_records(ratio: float) -> Callable[[int], bytes]:
    """Distinct records padded so that the stream gzips at about `ratio`."""
    rng = random.Random(7)
    words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)))
             for _ in range(4000)]
    best = (0, 0.0)
    for pad in range(0, 4000, 20):
        sample = b"".join(_record(n, abstract=rng.choice(words) + " x" * pad)
                          for n in range(3000))
        got = len(sample) / len(gzip.compress(sample, 9))
        if got <= ratio:
            best = (pad, got)
        else:
            break
    pad = best[0]
    return lambda n: _record(n, abstract=words[n % len(words)] + " x" * pad)


Maker = Callable[[int, str], bytes]  # (number, abstract) -> one record's bytes


def worst(make: Maker, ratio: float = 19.5, per_record: float = 22.0) -> Callable[[int], bytes]:
    """Distinct records that pass every default cap by a hair: random words enough for
    `per_record` compressed bytes each (under 50,000 papers per MB), then padding until the
    stream gzips at `ratio` (under 20x). The most work per compressed byte the caps allow."""
    rng = random.Random(13)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
                  for _ in range(4096)]

    def text(k: int, pad: int) -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(k)) + " x" * pad

    def measure(k: int, pad: int) -> tuple[float, float]:
        sample = b"".join(make(n, text(k, pad)) for n in range(1, 3001))
        packed = len(gzip.compress(sample, 9))
        return packed / 3000, len(sample) / packed

    k = next(k for k in range(0, 60) if measure(k, 0)[0] >= per_record)
    pad = 0
    while measure(k, pad + 10)[1] <= ratio:
        pad += 10
    return lambda n: make(n, text(k, pad))


def oai_record(n: int, abstract: str = "") -> bytes:
    described = f"<description>{abstract}</description>" if abstract else ""
    return (f"<record><header><identifier>oai:arXiv.org:{n}</identifier></header><metadata>"
            f"<dc><title>paper {n}</title>{described}</dc></metadata></record>\n").encode()


def tuned_oai(ratio: float) -> Callable[[int], bytes]:
    """Distinct OAI records with random words, so that the stream gzips at about `ratio`."""
    rng = random.Random(11)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
             for _ in range(4000)]
    best = 0
    for k in range(0, 40):
        sample = OAI_HEAD + b"".join(
            oai_record(n, " ".join(rng.choice(words) for _ in range(k))) for n in range(1, 3000))
        if len(sample) / len(gzip.compress(sample, 9)) <= ratio:
            best = k
            break
    return lambda n: oai_record(n, " ".join(words[(n * 7 + i) % 4000] for i in range(best))) \
        if n else OAI_HEAD


OAI_HEAD = (b'<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b"<ListRecords>\n")
FIRST = _record(0, abstract="a first record that is fine")


def members(body: bytes, per_member: int) -> Iterator[bytes]:
    """Raw bytes of many concatenated gzip members, each inflating to `per_member` bytes."""
    member = gzip.compress(body * (per_member // len(body)), 9)
    yield gzip.compress(FIRST, 9)
    while True:
        yield member


@dataclass
class Shape:
    name: str
    suffix: str
    what: str
    chunks: Callable[[], Chunks]
    raw: bool = False  # chunks are already gzip bytes (written as they are)
    known: str = ""  # a known limit outside this slice


def shapes() -> list[Shape]:
    at_cap = 20.0
    return [
        Shape("newlines", ".jsonl.gz", "one record, then newlines (probe: 16 Mi newlines)",
              lambda: repeat(FIRST, b"\n")),
        Shape("spaces", ".jsonl.gz", "one record, then lines of spaces",
              lambda: repeat(FIRST, b" " * 200 + b"\n")),
        Shape("endless-line", ".jsonl.gz", "one record, then one line without end",
              lambda: repeat(FIRST, b"a")),
        Shape("same-record", ".jsonl.gz", "one valid JSON record repeated (merges)",
              lambda: repeat(b"", FIRST)),
        Shape("distinct-records", ".jsonl.gz", "tiny distinct records (gzip ~18x)",
              lambda: records(_record)),
        Shape("at-ratio-cap", ".jsonl.gz", f"distinct records tuned to gzip just under "
              f"{at_cap:g}x", lambda: records(tuned_records(at_cap - 0.5))),
        Shape("over-ratio-cap", ".jsonl.gz", f"distinct records tuned to gzip at "
              f"~{at_cap + 5:g}x", lambda: records(tuned_records(at_cap + 5))),
        Shape("worst-jsonl", ".jsonl.gz", "distinct records just under the ratio and "
              "papers-per-MB caps", lambda: records(
                  worst(lambda n, text: _record(n, abstract=text)))),
        Shape("gapped-records", ".jsonl.gz", "distinct records, each after 9,999 blank lines",
              lambda: records(lambda n: _record(n) + b"\n" * 9999)),
        Shape("max-authors", ".jsonl.gz", "records of 10,000 authors (the cap), one name",
              lambda: records(lambda n: _record(n, authors=["A Name"] * 10_000))),
        Shape("authors-at-ratio-cap", ".jsonl.gz", f"records of 10,000 authors tuned to gzip "
              f"just under {at_cap:g}x", lambda: records(tuned_authors(at_cap - 0.5))),
        Shape("gapped-random", ".jsonl.gz", "records each after 9,999 lines of '' or ' '",
              lambda: records(lambda n: _record(n) + _blank_run(n, 9999))),
        Shape("real-authors", ".jsonl.gz", "records of 3,000 random author names",
              lambda: records(lambda n: _record(n, authors=names(3000)))),
        Shape("same-title", ".jsonl.gz", "distinct ids, one title, ~40k papers per MB",
              lambda: records(lambda n: _record(n, title="a", abstract=" ".join(names(2))))),
        Shape("bibtex-same", ".bib.gz", "one BibTeX entry repeated (probe: 300 MB)",
              lambda: repeat(b"", b"@article{k, title={A title}, author={A. Author}}\n")),
        Shape("bibtex-keys", ".bib.gz", "tiny entries, distinct keys, one title",
              lambda: records(lambda n: b"@misc{k%d,title={a}}\n" % n)),
        Shape("bibtex-distinct", ".bib.gz", "tiny entries, distinct keys and titles",
              lambda: records(lambda n: b"@misc{k%d,title={t%d}}\n" % (n, n))),
        Shape("worst-bibtex", ".bib.gz", "distinct entries just under the ratio and "
              "papers-per-MB caps", lambda: records(worst(
                  lambda n, text: b"@misc{k%d,\n  title={T%d},\n  abstract={%s}\n}\n"
                  % (n, n, text.encode())))),
        Shape("bibtex-comments", ".bib.gz", "@comment blocks only",
              lambda: repeat(b"@misc{k, title={T}}\n", b"@comment{x}\n")),
        Shape("bibtex-open-brace", ".bib.gz", "an entry whose value never closes",
              lambda: repeat(b"@misc{k, title={", b"aaaa {")),
        Shape("xml-text", ".xml.gz", "OAI record with an endless title (probe: 1 GiB)",
              lambda: repeat(OAI_HEAD + b"<record><header><identifier>x</identifier>"
                             b"</header><metadata><dc><title>", b"a")),
        Shape("xml-whitespace", ".xml.gz", "OAI document of whitespace between records",
              lambda: repeat(OAI_HEAD + oai_record(0), b" ")),
        Shape("xml-same-record", ".xml.gz", "one OAI record repeated (merges)",
              lambda: repeat(OAI_HEAD, oai_record(1))),
        Shape("xml-records", ".xml.gz", "tiny distinct OAI records",
              lambda: records(lambda n: oai_record(n) if n else OAI_HEAD)),
        Shape("xml-at-ratio-cap", ".xml.gz", f"distinct OAI records tuned to gzip just "
              f"under {at_cap:g}x", lambda: records(tuned_oai(at_cap - 0.5))),
        Shape("worst-xml", ".xml.gz", "distinct OAI records just under the ratio and "
              "papers-per-MB caps", lambda: after(OAI_HEAD, records(worst(oai_record)))),
        Shape("worst-abstracts", ".txt.gz", "'Abstract:' lines just under the ratio and "
              "papers-per-MB caps", lambda: records(
                  worst(lambda n, text: b"Abstract: %d %s.\n" % (n, text.encode())))),
        Shape("xml-deleted", ".xml.gz", "deleted OAI records only",
              lambda: repeat(OAI_HEAD, b'<record><header status="deleted"><identifier>x'
                             b"</identifier></header></record>\n")),
        Shape("abstracts", ".txt.gz", "'Abstract:' lines, distinct",
              lambda: records(lambda n: b"Abstract: finding number %d.\n" % n)),
        Shape("listing-chrome", ".txt.gz", "a listing page of page chrome only",
              lambda: repeat(b"Menu\n\n" + b"A Title\n\n" + b"word " * 40 + b"end.\n\n"
                             + b"Other Title\n\n" + b"word " * 40 + b"end.\n\n",
                             b"Subscribe\n\n")),
        Shape("members", ".jsonl.gz", "concatenated gzip members of newlines",
              lambda: members(b"\n", 1 << 20), raw=True),
        Shape("nested", ".jsonl.gz", "gzip of a gzip bomb (1 GB of newlines inside)",
              nested),
    ]


def nested() -> Iterator[bytes]:
    """The bytes of a gzip of distinct records (`write_gzip` gzips them once more: about
    as big, since gzip output does not compress)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    for chunk in records(_record):
        yield packer.compress(chunk)


@dataclass
class Outcome:
    name: str
    what: str
    size: int
    outcome: str
    rss_mb: float
    seconds: float
    exit: int | str


def ingest(path: Path, timeout: float, data_dir: Path) -> tuple[str, float, float, int | str]:
    """Run `paperfeed ingest` on one file; its outcome, peak RSS (MB), seconds, exit code."""
    command = [str(Path(sys.executable).with_name("paperfeed")), "--data-dir", str(data_dir),
               "ingest", "--no-index", "--json", str(path)]
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True)
        deadline = start + timeout
        status: int | str
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, wait_status, usage = os.wait4(proc.pid, 0)
                status = "killed"
                break
            time.sleep(0.05)
        proc.returncode = -1  # reaped above; keep Popen from waiting again
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
    if status == "killed":
        return f"TIMEOUT after {timeout:.0f} s", rss_mb, seconds, status
    try:
        report = json.loads(stdout)
        (file,) = report["files"]
        stored = f"{file['ingested']} new, {file['merged']} merged"
        text = f"{stored}; error: {file['error']}" if file["error"] else f"{stored}; ok"
    except (ValueError, KeyError):
        text = "no report: " + (stderr.strip().splitlines() or ["(nothing)"])[-1]
    return text.replace(str(path), path.name), rss_mb, seconds, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=1.0,
                        help="compressed size of each generated input (MB)")
    parser.add_argument("--only", nargs="*", help="shapes to run (default: all)")
    parser.add_argument("--legit", nargs="*", type=Path, default=[
        SHARED / "arxiv-daily-cs" / "arxiv_daily_cs_unique.jsonl.gz",
        SHARED / "arxiv-quantph-oai" / "arXiv-meta-2009.xml.gz",
        SHARED / "arxiv-kaggle-sample" / "arxiv-metadata-oai-snapshot.head200.json",
        *sorted((SHARED / "seeds").glob("000_*.txt"))])
    parser.add_argument("--timeout-per-mb", type=float, default=120.0)
    parser.add_argument("--keep", type=Path, help="write the inputs here and keep them")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-input-limits-"))
    folder = args.keep or work
    folder.mkdir(parents=True, exist_ok=True)
    target = int(args.size_mb * MB)
    results: list[Outcome] = []
    notes: dict[str, str] = {}

    def run(name: str, what: str, path: Path) -> None:
        size = path.stat().st_size
        timeout = max(120.0, args.timeout_per_mb * size / MB)
        text, rss, seconds, status = ingest(path, timeout, work / f"data-{name}")
        results.append(Outcome(name, what, size, text, rss, seconds, status))
        print(f"  {name}: {size / MB:.2f} MB, {rss:.0f} MB RSS, {seconds:.1f} s: {text[:150]}",
              file=sys.stderr, flush=True)

    for legit in args.legit:
        if legit.exists():
            run(f"real:{legit.name}", "real file from ../shared/data", legit)
        else:
            print(f"  skipped {legit}: not found", file=sys.stderr)
    for shape in shapes():
        if args.only and shape.name not in args.only:
            continue
        path = folder / f"{shape.name}{shape.suffix}"
        if shape.raw:
            with path.open("wb") as out:
                written = 0
                for chunk in shape.chunks():
                    out.write(chunk)
                    written += len(chunk)
                    if written >= target:
                        break
        else:
            write_gzip(path, shape.chunks(), target)
        if shape.known:
            notes[shape.name] = shape.known
        run(shape.name, shape.what, path)

    base = next((r for r in results if r.name.startswith("real:")), None)
    base_rate = base.seconds / (base.size / MB) if base else None
    print(f"\npaperfeed ingest --no-index, one subprocess per input; caps: {RSS_CAP_MB} MB RSS, "
          f"{SECONDS_PER_MB_CAP} s per compressed MB")
    print(f"{'input':<24} {'gz MB':>7} {'peak RSS MB':>11} {'s':>7} {'s/MB':>7} "
          f"{'x real':>7}  outcome")
    for r in results:
        rate = r.seconds / (r.size / MB)
        ratio = f"{rate / base_rate:.1f}" if base_rate else "-"
        flag = "" if r.rss_mb <= RSS_CAP_MB and rate <= SECONDS_PER_MB_CAP else " !!"
        print(f"{r.name[:24]:<24} {r.size / MB:>7.2f} {r.rss_mb:>11.0f} {r.seconds:>7.1f} "
              f"{rate:>7.1f} {ratio:>7}  {r.outcome[:200]}{flag}")
    for name, note in notes.items():
        print(f"note {name}: {note}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
