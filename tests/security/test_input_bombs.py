"""Decompression bombs against the real `paperfeed ingest` and the real upload (issue 11, defect 5).

The probe's three cases, replayed at a scale that keeps the test quick but with their
shapes: a .xml.gz that inflates to hundreds of MB (2.2 GB RSS before), a BibTeX .gz of
repeated blocks (1.35 GB, 25 s) and a .jsonl.gz of newlines (minutes; froze the server
when uploaded). Each bomb is an endless gzip stream fed through a named pipe to a real
`paperfeed ingest` process, so the test sees how many compressed bytes the process
took before it stopped: a fixed reader stops at a cap after a few KB, the old one reads
until the stream ends (or its memory does). Peak RSS comes from `os.wait4`.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.jobs import wait_for_job
from tests.security.conftest import Served, csrf, log_in

MiB = 1 << 20
# Generous for a ~100 MB process, far below what the probe saw (2.2-2.4 GB).
RSS_MB = 300
# Consumed compressed bytes: the 1 MiB grace at >1000x, plus the reader's 64 KiB
# read-ahead and the pipe's 64 KiB buffer; the bombs below are megabytes long.
CONSUMED = 256 * 1024
OAI_HEAD = (b'<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b"<ListRecords>\n")


def record(n: int) -> bytes:
    return json.dumps({"id": f"2401.{n + 1:05d}", "title": f"Paper number {n}",
                       "abstract": "An abstract."}).encode() + b"\n"


def bomb(head: bytes, body: bytes, mib: int) -> Iterator[bytes]:
    """A gzip stream: `head`, then `mib` MiB of `body` repeated, each MiB one self-contained
    deflate block (a full flush resets the dictionary), so any length costs nothing to make."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(body * (MiB // len(body))) + packer.flush(zlib.Z_FULL_FLUSH)
    for _ in range(mib):
        yield block
    yield packer.flush()  # its check value is wrong: nothing should read this far


class Feeder(threading.Thread):
    """Writes a stream into a named pipe, counting the bytes the reader took."""

    def __init__(self, fifo: Path, chunks: Iterator[bytes]) -> None:
        super().__init__(daemon=True)
        self.fifo = fifo
        self.chunks = chunks
        self.written = 0
        self.finished = False  # the whole stream went in

    def run(self) -> None:
        try:
            with self.fifo.open("wb") as out:
                for chunk in self.chunks:
                    out.write(chunk)
                    out.flush()
                    self.written += len(chunk)
            self.finished = True
        except BrokenPipeError:
            pass  # the reader stopped: what we want

    def release(self) -> None:
        """Unblock a writer still waiting for a reader that never came."""
        if self.is_alive():
            fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        self.join(5)


@dataclass
class Run:
    code: int | None  # None: killed at the timeout
    out: str
    rss_mb: float


# Runs the command and writes its peak RSS. A child's peak RSS starts at its parent's size
# (fork copies the resident pages' count, exec keeps the high-water mark), so the command is
# started from this small process, not from the (large) test process. The 4 GB of address
# space only guards against running these tests on an unfixed build.
_LAUNCHER = """
import os, resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def ingest(data_dir: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None
           ) -> Run:
    """`paperfeed ingest --no-index ARGS` in its own process: exit code, output, peak RSS."""
    rss_file = data_dir.parent / f"{data_dir.name}.rss"
    command = [sys.executable, "-c", _LAUNCHER, str(rss_file), sys.executable, "-m",
               "paperfeed", "--data-dir", str(data_dir), "ingest", "--no-index", *args]
    with open(data_dir.parent / f"{data_dir.name}.out", "w+b") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "COLUMNS": "200", **(env or {})},
                                start_new_session=True)
        try:
            code: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        out.seek(0)
        text = out.read().decode(errors="replace")
    rss_kib = int(rss_file.read_text()) if rss_file.exists() else 0
    return Run(code, text, rss_kib / 1024)


def feed_and_ingest(tmp_path: Path, name: str, chunks: Iterator[bytes], fmt: str,
                    data_dir: Path | None = None) -> tuple[Run, Feeder]:
    fifo = tmp_path / name
    os.mkfifo(fifo)
    feeder = Feeder(fifo, chunks)
    feeder.start()
    try:
        run = ingest(data_dir or tmp_path / "data", "--format", fmt, str(fifo))
    finally:
        feeder.release()
    return run, feeder


def error_lines(run: Run) -> list[str]:
    """The one-line reports of failed files (a file that fails detection is "skipped")."""
    return [line for line in run.out.splitlines() if line.startswith(("error:", "skipped:"))]


def stored(data_dir: Path) -> int:
    con = sqlite3.connect(data_dir / "paperfeed.sqlite")
    try:
        return int(con.execute("SELECT count(*) FROM papers").fetchone()[0])
    finally:
        con.close()


# --- the probe's three cases, through the CLI -------------------------------------------


def test_xml_gzip_bomb_stops_at_the_ratio_cap_before_inflating(tmp_path: Path) -> None:
    # Probe: a 1 MB .xml.gz that expands to 1 GiB peaked at 2.2 GB RSS before the cap.
    head = OAI_HEAD + b"<record><header><identifier>x</identifier></header><metadata><dc><title>"
    run, feeder = feed_and_ingest(tmp_path, "bomb.xml.gz", bomb(head, b"a", 600), "oai")
    assert run.code == 3, run.out
    (line,) = error_lines(run)
    assert "bomb.xml.gz" in line and "expands more than 20x" in line
    assert "PAPERFEED_INPUT_MAX_RATIO" in line
    assert not feeder.finished and feeder.written < CONSUMED, feeder.written
    assert run.rss_mb < RSS_MB


def test_bibtex_gzip_of_repeated_blocks_stops_early(tmp_path: Path) -> None:
    # Probe: a 1 MB BibTeX .gz expanding to 300 MB was accepted, at 1.35 GB and 25 s.
    head = b"@article{real, title={A Real Paper}, author={A. Author}}\n"
    run, feeder = feed_and_ingest(tmp_path, "refs.bib.gz", bomb(head, b"@comment{x}\n", 300),
                                  "bibtex")
    assert run.code == 3, run.out
    (line,) = error_lines(run)
    assert "refs.bib.gz" in line and "lines without a paper" in line
    assert "PAPERFEED_INPUT_MAX_LINES_BETWEEN_RECORDS" in line
    assert not feeder.finished and feeder.written < CONSUMED, feeder.written
    assert run.rss_mb < RSS_MB


def test_jsonl_newline_flood_stops_and_keeps_what_was_stored(tmp_path: Path) -> None:
    # Probe: a 17 KB .jsonl.gz of 16 Mi newlines took 25 s; 0.5 MB of them ran past 400 s.
    data = tmp_path / "data"
    head = b"".join(record(n) for n in range(1500))
    run, feeder = feed_and_ingest(tmp_path, "daily.jsonl.gz", bomb(head, b"\n", 20_000),
                                  "arxiv-daily", data)
    assert run.code == 3, run.out  # killed at the timeout is None
    (line,) = error_lines(run)
    assert re.search(r"daily\.jsonl\.gz:11501: more than 10,000 lines without a paper", line)
    assert "PAPERFEED_INPUT_MAX_LINES_BETWEEN_RECORDS raises the cap" in line
    # Every paper read before the flood stays stored: the full batch and the 500 after it.
    assert "(1500 papers before it stay stored)" in line
    assert stored(data) == 1500
    assert not feeder.finished and feeder.written < CONSUMED, feeder.written
    assert run.rss_mb < RSS_MB


def distinct_records() -> Iterator[bytes]:
    """An endless gzip stream of tiny distinct papers (~2.5 compressed bytes each)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    n = 0
    while True:
        lines = b"".join(b'{"id":"%d.%05d","title":"t%d","abstract":""}\n'
                         % (1501 + n // 99999 % 900, n % 99999 + 1, n) for n in range(n, n + 5000))
        n += 5000
        yield packer.compress(lines)


def test_densely_packed_tiny_papers_stop_after_the_grace(tmp_path: Path) -> None:
    # Under the ratio cap (they gzip at ~18x) 1 MB held 200,000-430,000 papers: 19-56 s
    # of store writes per MB. The papers-per-MB cap stops them after 10,000.
    data = tmp_path / "data"
    run, feeder = feed_and_ingest(tmp_path, "tiny.jsonl.gz", distinct_records(),
                                  "arxiv-daily", data)
    assert run.code == 3, run.out
    (line,) = error_lines(run)
    assert "tiny.jsonl.gz:10001: more than 50,000 papers per MB of file" in line
    assert "PAPERFEED_INPUT_MAX_RECORDS_PER_MB raises the cap" in line
    assert stored(data) == 10_000
    assert not feeder.finished and feeder.written < CONSUMED, feeder.written


def test_thousand_author_papers_are_written_in_small_batches(tmp_path: Path) -> None:
    # 1,000-paper batches held every author until written: 1,500 papers of 3,000 authors
    # (shaped like big-collaboration physics papers) peaked at 5.5 GB.
    rng = random.Random(4)
    path = tmp_path / "collaboration.jsonl"
    with path.open("w") as out:
        for n in range(150):
            names = [f"{rng.randrange(10**6)} {rng.randrange(10**6)}" for _ in range(3000)]
            out.write(json.dumps({"id": f"2402.{n + 1:05d}", "title": f"Measurement {n}",
                                  "abstract": "", "authors": names}) + "\n")
    run = ingest(tmp_path / "data", str(path), timeout=120)
    assert run.code == 0, run.out
    assert stored(tmp_path / "data") == 150
    assert run.rss_mb < RSS_MB


# --- other shapes, from files --------------------------------------------------------------


def _write(path: Path, chunks: Iterator[bytes]) -> Path:
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


@pytest.mark.parametrize(("name", "make", "expected"), [
    ("members.jsonl.gz",  # many gzip members, each 1 MiB of newlines
     lambda: [zlib.compress(record(0), wbits=31)]
     + [zlib.compress(b"\n" * MiB, 9, wbits=31)] * 200, "lines without a paper"),
    ("nested.jsonl.gz",  # gzip of a gzip bomb
     lambda: [zlib.compress(b"".join(bomb(record(0), b"\n", 200)), 9, wbits=31)],
     "gzip inside gzip"),
    ("line.jsonl.gz",  # one line without an end
     lambda: bomb(record(0), b"a", 200), "PAPERFEED_INPUT_MAX_RATIO"),
    ("deleted.xml.gz",  # records that yield nothing
     lambda: bomb(OAI_HEAD, b'<record><header status="deleted"><identifier>x</identifier>'
                  b"</header></record>\n", 200), "PAPERFEED_INPUT_MAX_RATIO"),
    ("open.bib.gz",  # a value that never closes, on one line
     lambda: bomb(b"@misc{k, title={", b"aaaa {", 200), "PAPERFEED_INPUT_MAX_RATIO"),
    ("chrome.txt.gz",  # a listing page that is all page chrome
     lambda: bomb(b"Menu\n\nA Title\n\n" + b"word " * 40 + b"end.\n\nB Title\n\n"
                  + b"word " * 40 + b"end.\n\n", b"Subscribe\n\n", 200),
     "lines without a paper"),
])
def test_bomb_shapes_stop_with_a_named_cap(tmp_path: Path, name: str, make: object,
                                           expected: str) -> None:
    path = _write(tmp_path / name, iter(make()))  # type: ignore[operator]
    run = ingest(tmp_path / "data", str(path))
    assert run.code == 3, run.out
    (line,) = error_lines(run)
    assert name in line and expected in line, line
    assert run.rss_mb < RSS_MB


def test_caps_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "daily.jsonl"
    path.write_bytes(b"".join(record(n) for n in range(30)))
    run = ingest(tmp_path / "data", str(path), env={"PAPERFEED_INPUT_MAX_RECORDS": "20"})
    assert run.code == 3, run.out
    (line,) = error_lines(run)
    assert "daily.jsonl:21: more than 20 papers (PAPERFEED_INPUT_MAX_RECORDS raises" in line
    bad = ingest(tmp_path / "data", str(path), env={"PAPERFEED_INPUT_MAX_BYTES": "lots"})
    assert bad.code == 1
    assert "PAPERFEED_INPUT_MAX_BYTES: expected a size such as 64MiB" in bad.out


# --- the upload (probe: 329 MB -> 2.4 GB server, and an 18 s freeze) ----------------------


class PeakRss(threading.Thread):
    """This process's resident memory, sampled while a request runs (the server is a thread
    of the test process)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.base = self.peak = self._now()
        self.stop = threading.Event()

    @staticmethod
    def _now() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> PeakRss:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()

    @property
    def grew_mb(self) -> float:
        return (self.peak - self.base) / MiB


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("meta.xml.gz", lambda: b"".join(bomb(
        OAI_HEAD + b"<record><header><identifier>x</identifier></header><metadata><dc><title>",
        b"a", 300)), "PAPERFEED_INPUT_MAX_RATIO"),
    ("daily.jsonl.gz", lambda: b"".join(bomb(record(0), b"\n", 16)),
     "PAPERFEED_INPUT_MAX_LINES_BETWEEN_RECORDS"),
])
def test_uploaded_bombs_are_refused_without_filling_the_server(
        served: Served, name: str, content: object, expected: str) -> None:
    data: bytes = content()  # type: ignore[operator]
    assert len(data) < 400_000
    served.account(f"bomb-{name}@example.org")
    with served.client() as browser:
        log_in(browser, f"bomb-{name}@example.org")
        token = csrf(browser, "/onboarding")
        with PeakRss() as memory:
            response = browser.post("/onboarding/import", data={"csrf_token": token},
                                    files={"file": (name, data, "application/gzip")})
            job = wait_for_job(browser, response)  # the import runs as a background job
        assert job["state"] == "failed", job
        # An upload's caps are the PAPERFEED_UPLOAD_* ones (tighter than the CLI's).
        assert expected.replace("_INPUT_", "_UPLOAD_") in str(job["message"]), job
        assert str(job["message"]).startswith(name), job
        assert memory.grew_mb < 150, memory.grew_mb
        assert browser.get("/api/v1/health").status_code == 200
