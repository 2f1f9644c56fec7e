"""Proposed names and kinds, from hand-written sentences in the style of arXiv abstracts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.cards.names import find_kind, find_name, is_name_like


@pytest.mark.parametrize("token", ["EViT", "X-Prompt", "Min-K%++", "wav2vec", "LVOS",
                                   "SMG-Learning", "iNaturalist", "GPT-2-XL"])
def test_name_like(token: str) -> None:
    assert is_name_like(token)


@pytest.mark.parametrize("token", ["Transformer", "Open-Set", "LLM-based", "LLMs", "2.5",
                                   "method", "CNN", "3D"])
def test_not_name_like(token: str) -> None:
    assert not is_name_like(token)


@pytest.mark.parametrize(("sentences", "name"), [
    (["Caching is slow.", "We propose FlashKV, a cache that compresses keys."], "FlashKV"),
    (["In this paper, we introduce a retrieval framework named Re-Rank++ for search."],
     "Re-Rank++"),
    (["We develop Sparse Token Routing (STR), a lightweight method.", "STR is fast."], "STR"),
    (["To this end, our method GridNet improves the baseline."], "GridNet"),
    (["We propose to reorganise tokens inside ViT models."], None),
    (["This paper proposes a novel hierarchical scheme for detection."], None),
    (["We introduce Table Question Parsing (TQP), a new task.",
      "We then propose TabLM, a model for it.", "TabLM wins."], "TabLM"),
])
def test_find_name(sentences: list[str], name: str | None) -> None:
    assert find_name("", sentences) == name


def test_title_prefix() -> None:
    assert find_name("Orca: Serving Many Models at Once", ["We study serving."]) == "Orca"
    assert find_name("Position: Benchmarks Are Broken", ["We argue."]) is None
    assert find_name("Fool the Judge: Attacks on Reward Models", ["We attack."]) is None


@pytest.mark.parametrize(("title", "sentences", "name", "kind"), [
    ("", ["We propose a new benchmark named CodeArena with 500 tasks."], "CodeArena",
     "benchmark"),
    ("", ["We present StreamKit, a training-free framework for streaming."], "StreamKit",
     "framework"),
    ("A Survey of Token Pruning", ["This paper reviews pruning methods."], None, "survey"),
    ("", ["This paper reviews recent advances in private inference."], None, "survey"),
    ("Silent Whispers: Backdoor Attacks on Speech Models", ["We design two attacks."], None,
     "attack"),
    ("", ["We introduce ShieldNet, a defense against adversarial patches."], "ShieldNet",
     "defense"),
    ("", ["This study probes neurons in language models.", "Our findings show limits."], None,
     "analysis"),
    ("", ["We propose QuickSeg, a method for segmentation."], "QuickSeg", "method"),
])
def test_find_kind(title: str, sentences: list[str], name: str | None, kind: str) -> None:
    assert find_name(title, sentences) == name
    assert find_kind(title, sentences, name) == kind


@given(st.text(), st.lists(st.text(), max_size=5))
def test_never_raises_and_name_is_in_text(title: str, sentences: list[str]) -> None:
    name = find_name(title, sentences)
    if name is not None:
        assert name in title or any(name in s for s in sentences)
    find_kind(title, sentences, name)
