"""Datasets and tasks found by rules, and a tagger's spans merged after the same filters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.cards.mentions import defined_acronyms, find_datasets, find_tasks
from paperfeed.cards.model import Span


def test_dataset_patterns() -> None:
    sentences = [
        "Object counting (OC) matters.",
        "We evaluate on the FSC-147 dataset and the more challenging CARPK benchmark.",
        "Experiments on seven benchmarks, including Places, Textures, and OpenImage-O, "
        "show gains.",
        "We also release TallyBench, a 2,000-image benchmark for counting.",
        "Results on VisDrone and UAVDT show gains over Llama-3 and Qwen models.",
    ]
    assert find_datasets(sentences) == [
        "FSC-147", "CARPK", "Places", "Textures", "OpenImage-O", "TallyBench", "VisDrone",
        "UAVDT",
    ]


def test_dataset_exclusions() -> None:
    sentences = [
        "Video object segmentation (VOS) is hard.",
        "However, existing VOS benchmarks are short.",
        "We propose FastVOS and test on LongVOS-2 with ResNet-50 backbones.",
    ]
    assert find_datasets(sentences, exclude=["FastVOS"]) == ["LongVOS-2"]


def test_own_benchmark_is_a_dataset() -> None:
    assert find_datasets(["We propose a benchmark named CodeArena."], own_data="CodeArena") == [
        "CodeArena"]


def test_tagger_spans_pass_the_same_filters() -> None:
    sentence = "We train on the Cityscapes dataset and RGB data."
    spans = [Span("DATASET", 16, 26, "Cityscapes"), Span("DATASET", 39, 47, "RGB data"),
             Span("DATASET", 0, 2, "We")]
    assert find_datasets([sentence], spans=spans) == ["Cityscapes"]


def test_acronyms() -> None:
    assert defined_acronyms(["Guided depth map super-resolution (GDSR) is useful."]) == {
        "GDSR": "Guided depth map super-resolution"}


def test_tasks() -> None:
    tasks = find_tasks(
        "Sparse Routing for Multi-View Object Detection",
        ["Visual object tracking (VOT) and object detection matter.",
         "We study three tasks: sound-shape association, pitch judgement, and rhyme."],
    )
    assert tasks[0] == "Multi-View Object Detection"
    assert "Visual object tracking" in tasks
    assert "sound-shape association" in tasks


@given(st.text(), st.lists(st.text(), max_size=4))
def test_never_raises_and_mentions_are_in_text(title: str, sentences: list[str]) -> None:
    for dataset in find_datasets(sentences):
        assert any(dataset.split()[0] in s for s in sentences)
    find_tasks(title, sentences)
