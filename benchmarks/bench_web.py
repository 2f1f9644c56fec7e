"""Load benchmark of the web app: throughput and latency of search and the daily page over HTTP.

What it measures
    For each scenario and each client concurrency, the number of requests completed in a
    fixed time window, requests per second, latency percentiles (p50/p95/p99, in ms) and
    errors (socket errors, timeouts and any non-2xx response):

    search  GET /api/v1/search?q=<query>&per_page=10 -- hybrid BM25 + embedding search,
            cycling through N queries sampled (seeded) from real paper titles in the store,
            or read from --queries FILE (one query per line).
    daily   GET /daily?date=YYYY-MM-DD -- the HTML page of one listing day (50 papers),
            cycling through the ~20 most recent listing days.

    Each measured run is preceded by an unmeasured warm-up at the same concurrency.
    The load generator is wrk when installed (a generated Lua script cycles the request
    paths and reports percentiles and non-2xx counts), otherwise an asyncio httpx client
    (also selectable with --client python). The python client shares the CPU with the
    server and is much slower than wrk, so its figures understate what the server can do
    on a machine with few cores; the output names the client used.

    The target check printed at the end: search p95 at concurrency 8 under 100 ms, and no
    errors in any run.

How to run
    By default it starts `paperfeed serve` on a free 127.0.0.1 port on the default data dir
    (or --data-dir DIR), waits for /api/v1/health (up to 300 s: the model loads and a
    warm-up search runs first), runs the load, and always stops the server at the end:

        .venv/bin/python benchmarks/bench_web.py
        .venv/bin/python benchmarks/bench_web.py --workers 2 --json web.json
        .venv/bin/python benchmarks/bench_web.py --concurrency 1,8,32 --duration 20 --warmup 3

    Or against a server that is already running (nothing is started or stopped):

        .venv/bin/python benchmarks/bench_web.py --url http://127.0.0.1:8000

    Run it on an otherwise idle machine: the load average at the start is printed with
    the results because other work on the machine moves the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

HEALTH = "/api/v1/health"
START_TIMEOUT = 300.0
REQUEST_TIMEOUT = 10.0
TARGET_P95_MS = 100.0
TARGET_CONCURRENCY = 8
SCENARIOS = ("search", "daily")


@dataclass
class Row:
    scenario: str
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    socket_errors: int


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def paperfeed_command() -> list[str]:
    beside = Path(sys.executable).parent / "paperfeed"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("paperfeed")
    return [found] if found else [sys.executable, "-m", "paperfeed"]


class Server:
    """`paperfeed serve` on a free loopback port, in its own process group."""

    def __init__(self, data_dir: Path | None, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        cmd = paperfeed_command()
        if data_dir is not None:
            cmd += ["--data-dir", str(data_dir)]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(workers)]
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            mode="w+b", prefix="bench_web_server_", suffix=".log")
        print(f"starting: {' '.join(cmd)}", file=sys.stderr)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        start = time.monotonic()
        deadline = start + timeout
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"paperfeed serve exited with {self.proc.returncode}:\n"
                                       + self.log_tail())
                try:
                    if client.get(HEALTH).status_code == 200:
                        print(f"server ready at {self.url} after "
                              f"{time.monotonic() - start:.1f} s", file=sys.stderr)
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"paperfeed serve not ready within {timeout:.0f} s:\n"
                                       + self.log_tail())
                time.sleep(0.5)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group holds the uvicorn workers too

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.proc.wait(timeout=10)
            self._signal(signal.SIGKILL)  # workers left behind by a leader that died early
        finally:
            self.log.close()


# --- the request mix ----------------------------------------------------------------------

WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def recent_days(client: httpx.Client, days: int) -> tuple[list[str], list[str]]:
    """The newest listing days (newest first) and the titles listed on them."""
    dates: list[str] = []
    titles: list[str] = []
    day: str | None = None
    while len(dates) < days:
        params: dict[str, str | int] = {"per_page": 100}
        if day:
            params["date"] = day
        r = client.get("/api/v1/daily", params=params)
        r.raise_for_status()
        data = r.json()
        if not data.get("date") or data["date"] in dates:
            break
        dates.append(str(data["date"]))
        titles += [str(p["title"]) for p in data.get("papers", []) if p.get("title")]
        day = data.get("previous")
        if not day:
            break
    return dates, titles


def sample_queries(titles: list[str], n: int, seed: int) -> list[str]:
    """n distinct queries of 3-6 consecutive lower-cased title words, chosen with `seed`."""
    rng = random.Random(seed)
    pool = sorted({t for t in titles if len(WORD.findall(t)) >= 3})  # API order can change
    if not pool:
        raise RuntimeError("no titles with three or more words to sample queries from")
    queries: list[str] = []
    seen: set[str] = set()
    for _ in range(n * 20):
        if len(queries) >= n:
            break
        words = WORD.findall(rng.choice(pool))
        k = rng.randint(3, min(6, len(words)))
        i = rng.randint(0, len(words) - k)
        query = " ".join(words[i:i + k]).lower()
        if query not in seen:
            seen.add(query)
            queries.append(query)
    return queries


def search_path(query: str) -> str:
    return "/api/v1/search?" + urlencode({"q": query, "per_page": 10}, quote_via=quote)


# --- wrk ----------------------------------------------------------------------------------

LUA = """\
local paths = {
%(paths)s
}
local threads = {}
local counter = 0
non2xx = 0

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = offset * 7919
  non2xx = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'PF_RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, '
    .. '"p99_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, '
    .. '"timeout": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout, bad))
end
"""


def lua_string(text: str) -> str:
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"request path is not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(wrk: str, url: str, paths: list[str], concurrency: int, seconds: int,
            script_dir: Path) -> dict[str, Any]:
    script = script_dir / "paths.lua"
    script.write_text(LUA % {"paths": ",\n".join("  " + lua_string(p) for p in paths)})
    threads = min(concurrency, 2)
    cmd = [wrk, "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s",
           "--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                         check=False)
    for line in out.stdout.splitlines():
        if line.startswith("PF_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("PF_RESULT "))
            return result
    raise RuntimeError(f"wrk gave no result (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")


def wrk_row(scenario: str, concurrency: int, r: dict[str, Any]) -> Row:
    seconds = r["duration_us"] / 1e6
    sockets = r["connect"] + r["read"] + r["write"] + r["timeout"]
    return Row(scenario, concurrency, r["requests"], round(seconds, 2),
               r["requests"] / seconds if seconds else 0.0,
               r["p50_us"] / 1000, r["p95_us"] / 1000, r["p99_us"] / 1000,
               sockets + r["non2xx"], r["non2xx"], sockets)


# --- the python client --------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted samples; 0 for none."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


async def _load(url: str, paths: list[str], concurrency: int, seconds: float
                ) -> tuple[list[float], int, int, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    bad = [0, 0]  # non-2xx, exceptions
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=REQUEST_TIMEOUT) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(offset: int) -> None:
            i = offset * 7919
            while time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                i += 1
                t0 = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError:
                    bad[1] += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if not 200 <= response.status_code < 300:
                    bad[0] += 1

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, bad[0], bad[1], elapsed


def run_python(scenario: str, url: str, paths: list[str], concurrency: int, seconds: float
               ) -> Row:
    latencies, non2xx, failed, elapsed = asyncio.run(_load(url, paths, concurrency, seconds))
    ordered = sorted(latencies)
    ms = [percentile(ordered, q) * 1000 for q in (50, 95, 99)]
    return Row(scenario, concurrency, len(ordered), round(elapsed, 2),
               len(ordered) / elapsed if elapsed else 0.0, ms[0], ms[1], ms[2],
               non2xx + failed, non2xx, failed)


# --- the report ---------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| scenario | concurrency | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.scenario} | {r.concurrency} | {r.requests} | {r.rps:.1f} | "
              f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.errors} |" for r in rows]
    return "\n".join(lines)


def checks(rows: list[Row]) -> dict[str, str]:
    at = [r for r in rows if r.scenario == "search" and r.concurrency == TARGET_CONCURRENCY]
    if at:
        p95 = "yes" if at[0].requests and at[0].p95_ms < TARGET_P95_MS else "no"
    else:
        p95 = f"n/a (concurrency {TARGET_CONCURRENCY} not run)"
    return {
        f"search p95 at concurrency {TARGET_CONCURRENCY} < {TARGET_P95_MS:.0f} ms": p95,
        "errors: 0": "yes" if all(r.errors == 0 for r in rows) else "no",
    }


def client_name(client: str, wrk: str | None) -> str:
    if client == "wrk" and wrk:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        first = (out.stdout or out.stderr).splitlines()
        return f"wrk ({first[0].split(' Copyright')[0]})" if first else "wrk"
    return f"python asyncio + httpx {httpx.__version__}"


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="benchmark this running server instead of starting one")
    where.add_argument("--data-dir", type=Path,
                       help="data dir for the server started here (default: paperfeed's own)")
    p.add_argument("--workers", type=int, default=1, help="passed to `paperfeed serve`")
    p.add_argument("--concurrency", default="1,8,32", help="comma-separated (default 1,8,32)")
    p.add_argument("--duration", type=int, default=20, help="seconds measured per run")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each run")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--queries", type=Path, help="search queries, one per line")
    p.add_argument("-n", "--num-queries", type=int, default=200,
                   help="queries to sample from titles when --queries is not given")
    p.add_argument("--days", type=int, default=20, help="listing days to cycle for /daily")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--json", type=Path, help="also write the rows and machine facts here")
    args = p.parse_args(argv)
    try:
        args.levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    except ValueError:
        p.error("--concurrency takes comma-separated integers")
    if not args.levels or min(args.levels) < 1:
        p.error("--concurrency needs positive integers")
    args.scenario_list = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not args.scenario_list or set(args.scenario_list) - set(SCENARIOS):
        p.error(f"--scenarios takes a subset of {','.join(SCENARIOS)}")
    if args.duration < 1 or args.warmup < 0:
        p.error("--duration must be >= 1 and --warmup >= 0")
    return args


def benchmark(args: argparse.Namespace, url: str, workers: str) -> int:
    load_at_start = os.getloadavg()
    with httpx.Client(base_url=url, timeout=30.0) as client:
        health = client.get(HEALTH).json()
        dates, titles = recent_days(client, args.days)
    if not dates:
        raise RuntimeError("the store has no listing days: nothing to benchmark")
    if args.queries:
        queries = [q.strip() for q in args.queries.read_text().splitlines() if q.strip()]
    else:
        queries = sample_queries(titles, args.num_queries, args.seed)
    paths = {"search": [search_path(q) for q in queries],
             "daily": [f"/daily?date={d}" for d in dates]}

    wrk = shutil.which("wrk")
    client_kind = args.client if args.client != "auto" else ("wrk" if wrk else "python")
    if client_kind == "wrk" and not wrk:
        raise RuntimeError("--client wrk but wrk is not installed (apt-get install wrk)")
    print(f"{len(queries)} search queries, {len(dates)} listing days "
          f"({dates[-1]} .. {dates[0]}), client {client_kind}", file=sys.stderr)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_web_") as tmp:
        for scenario in args.scenario_list:
            for c in args.levels:
                print(f"{scenario} c={c}: warm-up {args.warmup} s, run {args.duration} s",
                      file=sys.stderr)
                if client_kind == "wrk":
                    assert wrk is not None
                    if args.warmup:
                        run_wrk(wrk, url, paths[scenario], c, args.warmup, Path(tmp))
                    row = wrk_row(scenario, c, run_wrk(wrk, url, paths[scenario], c,
                                                       args.duration, Path(tmp)))
                else:
                    if args.warmup:
                        run_python(scenario, url, paths[scenario], c, args.warmup)
                    row = run_python(scenario, url, paths[scenario], c, args.duration)
                rows.append(row)
                print(table([row]).splitlines()[-1], file=sys.stderr)

    machine = {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "server_workers": workers,
        "papers": health.get("papers"),
        "client": client_name(client_kind, wrk),
        "url": url,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "search_queries": len(queries),
        "daily_dates": len(dates),
        "python": sys.version.split()[0],
    }
    verdicts = checks(rows)
    print()
    print(f"CPUs: {machine['cpus']}; load average at start: "
          f"{' '.join(f'{x:.2f}' for x in load_at_start)}; server workers: {workers}; "
          f"papers in the store: {machine['papers']}; client: {machine['client']}; "
          f"{args.duration} s per run after {args.warmup} s warm-up")
    print()
    print(table(rows))
    print()
    for name, verdict in verdicts.items():
        print(f"{name}: {verdict}")
    if args.json:
        args.json.write_text(json.dumps(
            {"machine": machine, "rows": [asdict(r) for r in rows], "checks": verdicts},
            indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.url:
        return benchmark(args, args.url.rstrip("/"), "unknown (external server)")
    server = Server(args.data_dir, args.workers)
    try:
        server.wait_ready()
        return benchmark(args, server.url, str(args.workers))
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
