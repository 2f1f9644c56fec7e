"""Does the server keep answering while the biggest allowed upload is imported?

What it measures
    `paperfeed serve` (a real process) over a store of N real arXiv papers (default 5,000,
    built in a temp folder: ingest, index, cards). One signed-in user uploads the biggest
    import the app accepts: a 2 MB arXiv JSON-lines file of 500 papers that are not in the
    store (their abstracts repeated to reach the size; the cap is 500 papers and 2 MB).
    Meanwhile one client calls GET /api/v1/health and another GET /api/v1/search
    (sequentially, 50 ms apart) until the import job is done. The same two clients run for
    the same number of seconds on the idle server first: the same-run baseline.

    Printed per phase (idle, importing): requests, p50/p95/max latency in ms, errors; the
    ratio importing/idle; the import's duration and outcome. Target (issue 11): health p95
    under 200 ms while the import runs.

How to run
    .venv/bin/python benchmarks/bench_import_load.py            # builds a 5,000-paper store
    .venv/bin/python benchmarks/bench_import_load.py --papers 20000
    .venv/bin/python benchmarks/bench_import_load.py --data-dir DIR  # an existing store (copied)

Needs ../shared/data/arxiv-daily-cs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from itertools import islice
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import Server

ROOT = Path(__file__).resolve().parents[1]
DAILY = ROOT.parent / "shared" / "data" / "arxiv-daily-cs" / "arxiv_daily_cs_unique.jsonl.gz"
UPLOAD_BYTES = 2 * 1024 * 1024 - 4096  # just under the cap (settings.MAX_UPLOAD_BYTES)
UPLOAD_PAPERS = 500  # the cap on papers in one upload (jobs/imports.py)
EMAIL, PASSWORD = "bench@example.org", "a long enough password"
PAUSE = 0.05


def build_store(data: Path, papers: int) -> None:
    from paperfeed.catalog import Catalog

    corpus = data.parent / "corpus.jsonl"
    with gzip.open(DAILY, "rt", encoding="utf-8") as src, corpus.open("w") as out:
        out.writelines(islice(src, papers))
    started = time.monotonic()
    with Catalog(data) as catalog:
        report = catalog.ingest_file(corpus)
        assert report.error is None, report.error
        catalog.update_index()
        catalog.update_cards()
    print(f"store: {papers:,} papers ingested, indexed and carded in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)


def add_user(data: Path) -> None:
    from paperfeed.accounts import Accounts
    from paperfeed.store import Store

    with Store(data) as store:
        Accounts(store).sign_up(EMAIL, PASSWORD, "Bench")


def upload_file(skip: int) -> bytes:
    """500 unseen real papers as arXiv daily JSON lines, each abstract repeated (and cut)
    to its share of 2 MB: the biggest upload the app takes."""
    with gzip.open(DAILY, "rt", encoding="utf-8") as src:
        records = [json.loads(line) for line in islice(src, skip, skip + UPLOAD_PAPERS)]
    share = UPLOAD_BYTES // len(records) - 8
    lines = []
    for r in records:
        text = r["abstract"]
        r["abstract"] = ""
        room = share - len(json.dumps(r).encode())
        r["abstract"] = ((text + " ") * (room // max(1, len(text)) + 1))[:max(room, len(text))]
        line = json.dumps(r)
        while len(line.encode()) > share and len(r["abstract"]) > len(text):
            r["abstract"] = r["abstract"][: -(len(line.encode()) - share)]
            line = json.dumps(r)
        lines.append(line)
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) <= UPLOAD_BYTES, len(body)
    return body


def csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


class Probe(threading.Thread):
    """Calls one path again and again until told to stop; keeps the latencies."""

    def __init__(self, url: str, path: str) -> None:
        super().__init__(daemon=True)
        self.url, self.path = url, path
        self.latencies: list[float] = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self.stop.is_set():
                start = time.perf_counter()
                try:
                    ok = client.get(self.path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.latencies.append((time.perf_counter() - start) * 1000)
                self.errors += not ok
                time.sleep(PAUSE)


def summary(values: list[float]) -> tuple[int, float, float, float]:
    if not values:
        return 0, float("nan"), float("nan"), float("nan")
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return len(values), statistics.median(values), p95, ordered[-1]


def measure(url: str, seconds: float | None, until: threading.Event | None = None
            ) -> dict[str, Probe]:
    probes = {"health": Probe(url, "/api/v1/health"),
              "search": Probe(url, "/api/v1/search?q=token+pruning+for+vision+transformers")}
    for p in probes.values():
        p.start()
    if seconds is not None:
        time.sleep(seconds)
    elif until is not None:
        until.wait()
    for p in probes.values():
        p.stop.set()
        p.join()
    return probes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="an existing store to copy instead of building one")
    args = parser.parse_args()
    if not DAILY.exists():
        print(f"needs {DAILY}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        data = Path(tmp) / "data"
        if args.data_dir:
            shutil.copytree(args.data_dir, data)
        else:
            build_store(data, args.papers)
        add_user(data)
        body = upload_file(skip=max(args.papers, 5000) + 1000)
        server = Server(data, workers=1)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.url, timeout=60) as browser:
                browser.post("/login", data={"email": EMAIL, "password": PASSWORD,
                                             "csrf_token": csrf(browser, "/login")})
                assert browser.get("/api/v1/me").status_code == 200, "log-in failed"
                token = csrf(browser, "/onboarding")
                # Idle baseline first, for as long as the import will roughly take.
                idle = measure(server.url, 20.0)
                done = threading.Event()
                outcome: dict[str, object] = {}

                def run_import() -> None:
                    started = time.monotonic()
                    response = browser.post("/onboarding/import", data={"csrf_token": token},
                                            files={"file": ("upload.jsonl", body)})
                    outcome["post_ms"] = (time.monotonic() - started) * 1000
                    job_id = re.search(r"job=(\d+)", response.headers.get("location", ""))
                    assert job_id, response.text[:300]
                    while True:
                        job = browser.get(f"/api/v1/jobs/{job_id.group(1)}").json()
                        if job["state"] in ("done", "failed"):
                            outcome.update(job=job, seconds=time.monotonic() - started)
                            done.set()
                            return
                        time.sleep(0.25)

                worker = threading.Thread(target=run_import, daemon=True)
                worker.start()
                busy = measure(server.url, None, done)
                worker.join()
        finally:
            server.stop()
    job = outcome["job"]
    assert isinstance(job, dict)
    print(f"\nupload: {len(body):,} bytes, {UPLOAD_PAPERS} papers; POST answered in "
          f"{outcome['post_ms']:.0f} ms; job {job['state']} after {outcome['seconds']:.1f} s: "
          f"{job['message']}")
    print(f"{'endpoint':8} {'phase':10} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'max ms':>8} {'errors':>6}")
    ratios = {}
    for name in ("health", "search"):
        rows = {}
        for phase, probes in (("idle", idle), ("importing", busy)):
            n, p50, p95, top = summary(probes[name].latencies)
            rows[phase] = p95
            print(f"{name:8} {phase:10} {n:8d} {p50:8.1f} {p95:8.1f} {top:8.1f} "
                  f"{probes[name].errors:6d}")
        ratios[name] = rows["importing"] / rows["idle"]
    print("p95 importing/idle: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    health_p95 = summary(busy["health"].latencies)[2]
    met = health_p95 < 200 and job["state"] == "done"
    print(f"target health p95 < 200 ms during the import: {health_p95:.1f} ms -> "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
