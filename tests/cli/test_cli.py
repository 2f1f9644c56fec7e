"""The `paperfeed` command end to end: ingest the real seed files, search, related, show, stats."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli.app import ExitCode, app

runner = CliRunner()

OOD_MARKERS = ("out-of-distribution", "ood")


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, shared_seeds: Path) -> Path:
    data_dir = tmp_path_factory.mktemp("seeded")
    code, out = run(data_dir, "ingest", str(shared_seeds))
    assert code == ExitCode.OK, out
    return data_dir


@pytest.fixture(scope="module")
def shared_seeds() -> Path:
    from tests.conftest import shared_path

    return shared_path("seeds")


def test_ingest_counts_match_the_seed_files(tmp_path: Path, shared_seeds: Path) -> None:
    code, out = run(tmp_path, "ingest", str(shared_seeds), "--json", "--no-index")
    assert code == ExitCode.OK, out
    report = json.loads(out[out.index("{"):])
    per_file = {Path(f["path"]).name[:3]: f for f in report["files"]}
    assert (per_file["000"]["ingested"], per_file["001"]["ingested"],
            per_file["003"]["ingested"]) == (10, 8, 10)
    # The gold cards file is not a paper format: reported, not ingested, not fatal.
    assert per_file["car"]["error"] and "not a recognised paper format" in per_file["car"]["error"]
    assert report["totals"]["ingested"] == 28
    # Re-ingesting changes nothing.
    code, out = run(tmp_path, "ingest", str(shared_seeds), "--json", "--no-index")
    again = json.loads(out[out.index("{"):])["totals"]
    assert (again["ingested"], again["merged"], again["changed_by_merge"]) == (0, 28, 0)


@pytest.mark.slow
def test_search_over_the_seeds_returns_the_ood_papers_first(seeded: Path) -> None:
    code, out = run(seeded, "search", "out-of-distribution detection", "--json", "-k", "5")
    assert code == ExitCode.OK, out
    results = json.loads(out)
    top = results[:2]
    for r in top:
        text = (r["title"] + " " + r["snippet"]).lower()
        assert any(m in text for m in OOD_MARKERS), r
    # The snippet marks the matched terms.
    assert "[[" in results[0]["snippet"]


@pytest.mark.slow
def test_search_prints_highlighted_snippets(seeded: Path) -> None:
    code, out = run(seeded, "search", "token pruning")
    assert code == ExitCode.OK, out
    assert " 1. " in out and "score" in out


@pytest.mark.slow
def test_related_returns_neighbours_from_the_same_topic(seeded: Path) -> None:
    code, out = run(seeded, "search", "vision transformer token", "--json", "-k", "1")
    paper_id = json.loads(out)[0]["id"]
    code, out = run(seeded, "related", str(paper_id), "--json", "-k", "3")
    assert code == ExitCode.OK, out
    related = json.loads(out)
    ids = [r["id"] for r in related["related"]]
    assert paper_id not in ids and len(ids) == 3


def test_show_and_stats(seeded: Path) -> None:
    code, out = run(seeded, "show", "seed:001_7d774920352eafa3#1", "--json")
    assert code == ExitCode.OK, out
    paper = json.loads(out)
    assert paper["title"].startswith("Not All Patches are What You Need")
    assert paper["code_urls"] == ["https://github.com/youweiliang/evit"]
    code, out = run(seeded, "stats", "--json")
    facts = json.loads(out)
    assert facts["papers"] == 28 and facts["index"]["pending"] == 0


def test_errors_are_one_line_with_distinct_exit_codes(tmp_path: Path) -> None:
    code, out = run(tmp_path, "show", "2599.99999")
    assert code == ExitCode.NOT_FOUND and "no paper matches" in out
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    code, out = run(tmp_path, "ingest", str(empty), "--no-index")
    assert code == ExitCode.BAD_INPUT and "empty.txt" in out
    code, out = run(tmp_path, "ingest", str(tmp_path / "missing.json"))
    assert code == ExitCode.BAD_INPUT and "missing.json" in out
    code, out = run(tmp_path, "search", "x", "--sort", "sideways")
    assert code == ExitCode.USAGE
    assert "Traceback" not in out


def test_every_command_has_help() -> None:
    from typer.main import get_command

    group = get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"ingest", "harvest", "search", "related", "show", "stats", "reindex",
            "quickstart"} <= set(commands)
    for name, command in commands.items():
        assert command.help, f"{name} has no help text"
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        assert f"paperfeed {name}" in readme or name == "quickstart", f"{name} not in README"


def _count(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=30)
        try:
            return int(con.execute("SELECT count(*) FROM papers").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_killing_an_ingest_and_running_it_again_stores_every_paper_once(tmp_path: Path) -> None:
    from tests.conftest import shared_path

    corpus = shared_path("arxiv-kaggle-sample", "arxiv-metadata-oai-snapshot.head200.json")
    # A bigger file from real lines: the 200 snapshot records, ids made unique per copy.
    big = tmp_path / "snapshot.jsonl"
    lines = corpus.read_text(encoding="utf-8").splitlines()
    with big.open("w", encoding="utf-8") as out:
        for copy in range(60):
            for line in lines:
                record = json.loads(line)
                record["id"] = f"{2001 + copy // 10}.{copy % 10}{record['id'][-4:]}"
                record["doi"] = None
                out.write(json.dumps(record) + "\n")
    expected = 60 * len(lines)
    data_dir = tmp_path / "data"
    cmd = [sys.executable, "-m", "paperfeed", "--data-dir", str(data_dir), "ingest", str(big),
           "--no-index"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    db = data_dir / "paperfeed.sqlite"
    killed_mid_way = _wait_until(lambda: _count(db) >= 1000, timeout=120)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored_at_kill = _count(db)
    assert killed_mid_way and stored_at_kill < expected, "the ingest finished before the kill"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    con = sqlite3.connect(db)
    query = "SELECT count(*), count(DISTINCT arxiv_id) FROM papers"
    total, distinct = con.execute(query).fetchone()
    con.close()
    assert total == distinct == expected


LATEX_PAPER = {
    "id": "2503.99980", "title": r"$\alpha$-divergence for \textbf{robust} detection",
    "abstract": r"We gain 95\% accuracy at $\mathcal{O}(n)$ cost with \emph{no} labels.",
    "authors": ["Ada Lovelace"], "categories": ["cs.LG"],
    "comment": r"Accepted at \textit{NeurIPS}",
    "first_seen_listing_date": "2025-03-20", "abs": "https://arxiv.org/abs/2503.99980",
    "pdf": "https://arxiv.org/pdf/2503.99980",
}


def test_show_prints_clean_text_not_latex(tmp_path: Path) -> None:
    """`paperfeed show` prints what the web page shows: LaTeX cleaned, in text and JSON."""
    listing = tmp_path / "listing.jsonl"
    listing.write_text(json.dumps(LATEX_PAPER) + "\n", encoding="utf-8")
    data = tmp_path / "data"
    code, out = run(data, "ingest", str(listing), "--no-index")
    assert code == ExitCode.OK, out
    code, out = run(data, "show", "2503.99980")
    assert code == ExitCode.OK, out
    assert "α-divergence for robust detection" in out
    assert "95% accuracy at 𝒪(n) cost with no labels." in out
    assert "Accepted at NeurIPS" in out
    assert "\\textbf" not in out and "$" not in out and "\\%" not in out
    code, out = run(data, "show", "2503.99980", "--json")
    paper = json.loads(out)
    assert (paper["title"], paper["comment"]) == ("α-divergence for robust detection",
                                                  "Accepted at NeurIPS")
    assert paper["abstract"] == "We gain 95% accuracy at 𝒪(n) cost with no labels."
    assert (paper["ref"], paper["listed"]) == ("2503.99980", "2025-03-20")
