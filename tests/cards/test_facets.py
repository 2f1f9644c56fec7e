"""Card facets in the search syntax."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.cards.facets import MAX_VALUES, CardFilter, split_facets


def test_facets_come_out_and_words_stay() -> None:
    text, wanted = split_facets('token pruning dataset:LaSOT task:"object tracking" has:code')
    assert text == "token pruning"
    assert wanted == CardFilter(datasets=("LaSOT",), tasks=("object tracking",),
                                has={"code": True})


def test_kind_negation_and_typographic_quotes() -> None:
    text, wanted = split_facets("kind:Benchmark -has:code task:“video object segmentation”")
    assert text == ""
    assert wanted.kinds == ("benchmark",)
    assert wanted.has == {"code": False}
    assert wanted.tasks == ("video object segmentation",)
    assert split_facets("no:results")[1].has == {"results": False}


def test_unknown_prefixes_and_values_are_not_facets() -> None:
    # An unknown kind or has: value is dropped, not turned into "match nothing".
    text, wanted = split_facets("kind:poem has:wings title:foo dataset: arxiv:2401.1")
    assert wanted.is_empty()
    assert "title:foo" in text and "arxiv:2401.1" in text
    # A facet word inside another word is text ("metadataset:x" is not "dataset:x").
    assert split_facets("metadataset:x")[1].is_empty()


def test_describe_round_trips() -> None:
    wanted = CardFilter(datasets=("LaSOT", "Long Video"), tasks=("tracking",),
                        kinds=("method",), has={"code": True, "results": False})
    assert split_facets(wanted.describe()) == ("", wanted)


def test_values_are_capped() -> None:
    _, wanted = split_facets(" ".join(f"dataset:d{i}" for i in range(50)))
    assert len(wanted.datasets) == MAX_VALUES


@given(st.text(max_size=300))
def test_any_text_splits_without_error(text: str) -> None:
    rest, wanted = split_facets(text)
    assert len(rest) <= len(text)
    assert all(v and len(v) <= 200 for v in wanted.datasets + wanted.tasks)
    # What was split off is stable: splitting the rest again finds nothing new.
    assert split_facets(rest)[0] == rest
