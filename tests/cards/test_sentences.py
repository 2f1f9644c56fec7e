"""Sentence splitting: abbreviations, decimals and URLs keep a sentence whole; no text is lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.cards.sentences import sentence_spans, split_sentences


def test_splits_plain_sentences() -> None:
    assert split_sentences("We study caching. It helps a lot! Does it scale? Yes.") == [
        "We study caching.", "It helps a lot!", "Does it scale?", "Yes.",
    ]


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = ("Prior work (e.g. Smith et al. 2021) reports gains vs. baselines, i.e. 0.3% on "
            "average, see Fig. 2 and Eq. 3. Code is at https://github.com/a/b.git for all.")
    assert split_sentences(text) == [
        "Prior work (e.g. Smith et al. 2021) reports gains vs. baselines, i.e. 0.3% on "
        "average, see Fig. 2 and Eq. 3.",
        "Code is at https://github.com/a/b.git for all.",
    ]


def test_name_ending_in_capital_letter_ends_sentence() -> None:
    assert split_sentences("We test on ImageNet-O. Results improve.") == [
        "We test on ImageNet-O.", "Results improve.",
    ]


def test_initials_do_not_split() -> None:
    assert split_sentences("Following J. Smith we train. Then we test.") == [
        "Following J. Smith we train.", "Then we test.",
    ]


def test_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n ") == []


@given(st.text())
def test_never_loses_text(text: str) -> None:
    spans = sentence_spans(text)
    covered = "".join(text[a:b] for a, b in spans)
    assert covered == "".join(text[a:b] for a, b in spans)
    assert "".join(covered.split()) == "".join(text.split())
    assert all(text[a:b] == s for (a, b), s in zip(spans, split_sentences(text), strict=True))


def test_huge_input() -> None:
    text = "We propose Xnet. It works, e.g. on Abc. " * 20_000
    assert len(split_sentences(text)) == 40_000
