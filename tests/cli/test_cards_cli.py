"""System cards from the command line over the real seed files: build, show, facet search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperfeed.cli.app import ExitCode, app

runner = CliRunner()


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import shared_path

    seeds = shared_path("seeds")
    data_dir = tmp_path_factory.mktemp("cards")
    code, out = run(data_dir, "ingest", *map(str, sorted(seeds.glob("*.txt"))))
    assert code == ExitCode.OK, out
    return data_dir


def test_ingest_gives_every_paper_a_card(seeded: Path) -> None:
    code, out = run(seeded, "cards", "build")
    assert code == ExitCode.OK, out
    # ingest already extracted them all: nothing left to do, 28 cards stored.
    assert "0 cards extracted; 28 papers have a card" in " ".join(out.split())


def test_show_prints_the_card(seeded: Path) -> None:
    code, out = run(seeded, "show", "seed:001_7d774920352eafa3#1", "--json")
    assert code == ExitCode.OK, out
    card = json.loads(out)["card"]
    assert card["name"] == "EViT"
    assert "https://github.com/youweiliang/evit" in card["code_urls"]
    code, out = run(seeded, "show", "seed:001_7d774920352eafa3#1")
    assert code == ExitCode.OK
    flat = " ".join(out.split())
    assert "system card" in flat and "EViT" in flat


def test_dataset_search_lists_the_paper_with_figures_and_sentences(seeded: Path) -> None:
    code, out = run(seeded, "search", "dataset:LaSOT", "--json")
    assert code == ExitCode.OK, out
    hits = json.loads(out)
    assert [h["title"] for h in hits] and all(
        any(d.lower() == "lasot" for d in h["card"]["datasets"]) for h in hits)
    tracker = next(h for h in hits if h["card"]["name"] == "CompressTracker")
    values = {r["value"]: r for r in tracker["card"]["results"]}
    assert "66.1%" in values
    assert "66.1%" in values["66.1%"]["sentence"]
    code, out = run(seeded, "search", "dataset:LaSOT")
    flat = " ".join(out.split())
    assert "CompressTracker" in flat and "66.1%" in flat and "“" in flat
    # Words and facets together; a dataset nobody names finds nothing.
    code, out = run(seeded, "search", "tracking has:code dataset:LaSOT", "--json")
    assert code == ExitCode.OK and all(h["card"]["code_urls"] for h in json.loads(out))
    code, out = run(seeded, "search", "dataset:NoSuchBenchmark42", "--json")
    assert code == ExitCode.OK and json.loads(out) == []


def test_facet_lists(seeded: Path) -> None:
    code, out = run(seeded, "cards", "datasets")
    assert code == ExitCode.OK and "LaSOT" in out
    code, out = run(seeded, "cards", "tasks", "video")
    rows = [line for line in out.splitlines() if "│" in line]
    assert code == ExitCode.OK and rows
    assert all(line.split("│")[1].strip().lower().startswith("video") for line in rows)
