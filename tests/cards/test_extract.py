"""Whole cards: LaTeX cleaned, code links normalised, deterministic, never raising."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperfeed.cards.extract import EXTRACTOR_VERSION, extract_card, extract_cards
from paperfeed.cards.model import Span

ABSTRACT = (
    r"Long-context speech models are slow. In this paper, we propose \textbf{EchoPrune}, a "
    r"training-free token pruning method for spoken question answering. On the LibriQA "
    r"benchmark, EchoPrune improves accuracy by 7.5\% and runs 2.3$\times$ faster than the "
    r"original model. Code: \url{https://github.com/example/EchoPrune}."
)


def test_card() -> None:
    card = extract_card("EchoPrune: Fast Spoken Question Answering", ABSTRACT)
    assert card.name == "EchoPrune"
    assert card.kind == "method"
    assert card.datasets == ("LibriQA",)
    assert [r.value for r in card.results] == ["7.5%", "2.3×"]
    assert card.results[0].dataset == "LibriQA"
    assert "accuracy" in card.results[0].claim
    assert card.code_urls == ("https://github.com/example/EchoPrune",)
    assert "Spoken Question Answering" in card.tasks
    assert card.version == EXTRACTOR_VERSION


def test_comment_links_and_missing_scheme() -> None:
    card = extract_card("A Study", "We study things.", "Project page: github.com/x/y).")
    assert card.code_urls == ("https://github.com/x/y",)


def test_deterministic_and_batched_equal() -> None:
    papers = [("T", ABSTRACT, None), ("", "", None), ("Other: A Dataset", "We release it.", "")]
    first = list(extract_cards(papers))
    assert first == list(extract_cards(papers))
    assert first == [extract_card(*p) for p in papers]


class BrokenTagger:
    def tag(self, sentences: object) -> list[list[Span]]:
        raise RuntimeError("model file is gone")


def test_broken_tagger_falls_back_to_rules() -> None:
    assert extract_card("T", ABSTRACT, tagger=BrokenTagger()) == extract_card("T", ABSTRACT)


@settings(max_examples=200)
@given(st.text(), st.text(), st.one_of(st.none(), st.text()))
def test_never_raises(title: str, abstract: str, comment: str | None) -> None:
    card = extract_card(title, abstract, comment)
    for result in card.results:
        assert result.value in result.sentence


def test_huge_and_hostile_input() -> None:
    card = extract_card("$" * 100_000, "\\" * 50_000 + "{" * 50_000 + ABSTRACT * 200, "%" * 10)
    assert card.version == EXTRACTOR_VERSION


SEEDS = Path(__file__).resolve().parents[3] / "shared" / "data" / "seeds"


def test_dev_cards_names() -> None:
    """A smoke check on the real seed papers: most gold names are found."""
    if not (SEEDS / "cards-dev.jsonl").exists():
        pytest.skip(f"../shared/data not found: {SEEDS}")
    from paperfeed.sources import read_records

    gold = {row["id"]: row for row in map(json.loads,
                                          (SEEDS / "cards-dev.jsonl").read_text().splitlines())}
    hits = total = 0
    for path in sorted(SEEDS.glob("0*.txt")):
        for n, record in enumerate(read_records(path), 1):
            card = extract_card(record.title, record.abstract, record.comment)
            expected = gold[f"{path.stem}#{n}"]["name"]
            total += 1
            hits += card.name == expected
    assert hits / total >= 0.85
