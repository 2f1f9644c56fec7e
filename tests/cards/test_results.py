"""Reported figures: what counts as one, and the claim read next to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.cards.results import find_results, find_values


def values(sentence: str) -> list[str]:
    return [value for value, _, _ in find_values(sentence)]


@pytest.mark.parametrize(("sentence", "expected"), [
    ("It cuts latency by 35% and memory by 2.5x.", ["35%", "2.5x"]),
    ("The corpus has 12,480 dialogues and 310 speakers.", ["12,480", "310"]),
    ("Recall rises by 12 percent with 3 times fewer steps.", ["12 percent", "3 times"]),
    ("We train a 1.3-billion parameter model for 4.5 hours.", ["1.3-billion", "4.5 hours"]),
    ("It reaches 41.2 mAP and a BLEU of 28.4.", ["41.2", "28.4"]),
    ("It runs 4× faster at 1920 × 1080 resolution.", ["4×"]),
])
def test_values(sentence: str, expected: list[str]) -> None:
    assert values(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "We fine-tune ResNet-50 and GPT-3.5 as in [12, 14].",
    "Section 3.2 and Table 4 describe the 2023 release.",
    "We use 8-bit weights on 4 GPUs with 3 heads.",
])
def test_not_values(sentence: str) -> None:
    assert values(sentence) == []


def test_claims() -> None:
    results = find_results([
        "Our tracker keeps 95% accuracy on GOT10k (70.2% AO) while achieving 3.1x speed up.",
        "It reduces the number of trainable parameters by about 90%.",
        "Gains range from 4.1% to 8.3% in retrieval recall.",
    ])
    claims = {r.value: r.claim for r in results}
    assert claims["95%"] == "accuracy on GOT10k"
    assert claims["70.2%"] == "AO"
    assert claims["3.1x"] == "speed up"
    assert "trainable parameters" in claims["90%"]
    assert claims["4.1%"] == claims["8.3%"]
    assert claims["8.3%"].endswith("in retrieval recall")


def test_background_sentences_are_skipped() -> None:
    sentences = ["Existing clips last 5 seconds.", "We propose LongVid with 800 videos."]
    assert [r.value for r in find_results(sentences, own_from=1)] == ["800"]


@given(st.lists(st.text(), max_size=4))
def test_values_are_substrings_of_their_sentence(sentences: list[str]) -> None:
    for result in find_results(sentences):
        assert result.value in result.sentence
        assert result.sentence in sentences
