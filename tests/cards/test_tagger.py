"""The CRF span tagger: tokenizer offsets, train/load/tag round trip, hostile input, real data."""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed.cards.corpora import LabelledSentence, read_tdmsci, score_spans
from paperfeed.cards.model import SPAN_LABELS, Span, Tagger
from paperfeed.cards.span_rules import RegexSpanTagger
from paperfeed.cards.tagger import (
    MODEL_VERSION,
    CrfTagger,
    TaggerConfig,
    TaggerModelError,
    build_gazetteer,
    cross_label,
    sentence_features,
    tokenize,
    train_default,
    train_tagger,
    word_clusters,
)

FAST = TaggerConfig(clusters=False, max_iterations=60)
# The module-scoped model is read-only, so sharing it across examples is safe.
FIXTURE = [HealthCheck.function_scoped_fixture]


def labelled(text: str) -> LabelledSentence:
    """"We use [SQuAD](DATASET) ." -> tokens and BIO labels, for a readable training set."""
    tokens: list[str] = []
    labels: list[str] = []
    for chunk in text.replace("](", "]\0(").split("["):
        name, _, rest = chunk.partition("]\0(")
        if rest:
            label, _, tail = rest.partition(")")
            words = name.split()
            tokens += words
            labels += [f"B-{label}"] + [f"I-{label}"] * (len(words) - 1)
        else:
            tail = chunk
        tokens += tail.split()
        labels += ["O"] * len(tail.split())
    return LabelledSentence(tuple(tokens), tuple(labels))


TINY = [labelled(s) for s in [
    "We evaluate on the [SQuAD](DATASET) dataset and report [F1](METRIC) .",
    "Results on [ImageNet](DATASET) show higher [accuracy](METRIC) .",
    "We study [machine translation](TASK) with [Transformer](METHOD) models .",
    "Our [BERT](METHOD) baseline improves [question answering](TASK) on [SQuAD](DATASET) .",
    "Experiments on [CoNLL-2003](DATASET) measure [F1](METRIC) for [named entity recognition]"
    "(TASK) .",
    "A [CRF](METHOD) tagger for [part-of-speech tagging](TASK) on the [Penn Treebank](DATASET) .",
    "We report [BLEU](METRIC) on [WMT14](DATASET) for [machine translation](TASK) .",
    "The proposed [ResNet](METHOD) reaches 80 % [accuracy](METRIC) on [ImageNet](DATASET) .",
    "This paper is about nothing in particular .",
    "We thank the reviewers .",
] * 3]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tagger") / "tiny.crfsuite"
    gazetteer = build_gazetteer([("MS MARCO", "DATASET"), ("BLEU", "METRIC")])
    train_tagger(TINY, path, config=TaggerConfig(clusters=False, gazetteer=True,
                                                 max_iterations=50), gazetteer=gazetteer)
    return path


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> CrfTagger:
    return CrfTagger.load(tiny_model)


def assert_slices(sentence: str, spans: list[Span]) -> None:
    for span in spans:
        assert span.label in SPAN_LABELS
        assert 0 <= span.start < span.end <= len(sentence)
        assert span.text == sentence[span.start:span.end]


def test_tokenize_keeps_offsets() -> None:
    text = "GPT-4o scores 95.3% on MMLU,  e.g. (BERT's F1)."
    toks = tokenize(text)
    assert [t for t, _, _ in toks][:6] == ["GPT", "-", "4o", "scores", "95.3", "%"]
    assert all(text[start:end] == tok for tok, start, end in toks)
    assert tokenize("") == [] and tokenize(" \t\n") == []


def test_features_mark_shape_neighbours_and_gazetteer() -> None:
    gazetteer = build_gazetteer([("Penn Treebank", "DATASET")])
    feats = sentence_features(["on", "the", "Penn", "Treebank"], gazetteer,
                              {"penn": [1, 2]})
    assert "w=penn" in feats[2] and "sh=Xx" in feats[2] and "c1=2" in feats[2]
    assert "-1w=the" in feats[2] and "+1w=treebank" in feats[2] and "+1c0=1" in feats[1]
    assert "gz=B-DATASET" in feats[2] and "gz=I-DATASET" in feats[3]
    assert "BOS" in feats[0] and "EOS" in feats[3]


def test_round_trip_tags_training_spans(tiny: CrfTagger) -> None:
    tagger: Tagger = tiny  # satisfies the protocol (checked by mypy)
    sentence = "Our BERT baseline improves question answering on SQuAD."
    (spans,) = tagger.tag([sentence])
    assert_slices(sentence, spans)
    assert Span("DATASET", 49, 54, "SQuAD") in spans
    assert ("METHOD", "BERT") in {(s.label, s.text) for s in spans}
    assert tiny.tag([]) == []
    assert tiny.tag(["", "   "]) == [[], []]


def test_sidecar_records_version_and_config(tiny_model: Path) -> None:
    info = json.loads((tiny_model.parent / (tiny_model.name + ".json")).read_text())
    assert info["version"] == MODEL_VERSION
    assert info["config"]["max_iterations"] == 50
    assert info["gazetteer"]["ms"] == {"ms marco": "DATASET"}
    assert not list(tiny_model.parent.glob("*.crfsuite.*[!n]"))  # no temporary leftovers


def test_load_refuses_missing_or_other_version(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(TaggerModelError, match="not found"):
        CrfTagger.load(tmp_path / "none.crfsuite")
    copy = tmp_path / "old.crfsuite"
    copy.write_bytes(tiny_model.read_bytes())
    info = json.loads((tiny_model.parent / (tiny_model.name + ".json")).read_text())
    (tmp_path / "old.crfsuite.json").write_text(json.dumps(dict(info, version=-1)))
    with pytest.raises(TaggerModelError, match="version"):
        CrfTagger.load(copy)
    (tmp_path / "old.crfsuite.json").write_text(json.dumps(info))
    copy.write_bytes(b"not a model")
    with pytest.raises(TaggerModelError, match="crfsuite"):
        CrfTagger.load(copy)


def test_pickles_by_path(tiny: CrfTagger) -> None:
    again = pickle.loads(pickle.dumps(tiny))
    sentence = "We report BLEU on WMT14 for machine translation."
    assert again.tag([sentence]) == tiny.tag([sentence])


def test_train_refuses_no_sentences(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no training"):
        train_tagger([], tmp_path / "m")


def test_cross_label_fills_only_unannotated_tokens(tiny: CrfTagger) -> None:
    sentence = labelled("Our BERT baseline improves [question answering](TASK) on SQuAD .")
    (done,) = cross_label([sentence], tiny, ("METHOD",))
    assert done.labels[1] == "B-METHOD"  # BERT, filled in
    assert done.labels[4:6] == ("B-TASK", "I-TASK")  # kept
    assert done.labels[7] == "O"  # SQuAD: a DATASET, but not a label we take


def test_word_clusters_on_a_synthetic_corpus() -> None:
    texts = [f"the w{i % 300} model beats the w{(i * 7) % 300} model on data{i % 5} ."
             for i in range(3000)]
    clusters = word_clusters(texts, sizes=(4, 16), min_count=3)
    assert clusters["w1"] and len(clusters["w1"]) == 2
    assert all(0 <= c < 16 for ids in clusters.values() for c in ids)
    with pytest.raises(ValueError, match="too few"):
        word_clusters(["tiny corpus"], sizes=(4,))


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE)
@given(st.lists(st.text(max_size=300), max_size=5))
def test_any_text_tags_to_exact_slices(tiny: CrfTagger, sentences: list[str]) -> None:
    for tagger in (tiny, RegexSpanTagger()):
        out = tagger.tag(sentences)
        assert len(out) == len(sentences)
        for sentence, spans in zip(sentences, out, strict=True):
            assert_slices(sentence, spans)


@settings(max_examples=50, deadline=None, suppress_health_check=FIXTURE)
@given(st.lists(st.sampled_from(["A", "-", "1", ".", " ", "\u0301", "\x00", "İ", "ß", "\u200b",
                                 "\n", "%", "SQuAD ", "BLEU ", "95.3", "\ud7ff", "\U0001f600"]),
                max_size=300).map("".join))
def test_hostile_text_tags_to_exact_slices(tiny: CrfTagger, sentence: str) -> None:
    (spans,) = tiny.tag([sentence])
    assert_slices(sentence, spans)


def test_huge_inputs(tiny: CrfTagger) -> None:
    word = "X" * 200_000
    long_sentence = "We use SQuAD . " * 20_000
    start = time.perf_counter()
    out = tiny.tag([word, long_sentence])
    assert time.perf_counter() - start < 30
    assert_slices(word, out[0])
    assert_slices(long_sentence, out[1])


def test_train_default_names_missing_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"scierc/train\.json"):
        train_default(tmp_path, tmp_path / "m.crfsuite")


# Measured with FAST on TDMSci train -> test: DATASET F1 0.53 (P 0.70, R 0.43);
# the floor leaves room for crfsuite's platform-dependent optimisation.
TDMSCI_DATASET_F1_FLOOR = 0.45


def test_real_tdmsci_dataset_f1(shared_file: Callable[..., Path], tmp_path: Path) -> None:
    folder = shared_file("nlp-tdms-tdmsci", "TDMSci", "conllFormat")
    train_tagger(read_tdmsci(folder / "train_1500_v2.conll"), tmp_path / "t.crfsuite",
                 config=FAST)
    tagger = CrfTagger.load(tmp_path / "t.crfsuite")
    test = read_tdmsci(folder / "test_500_v2.conll")
    texts, gold = zip(*(s.text_and_spans() for s in test), strict=True)
    scores = score_spans(gold, tagger.tag(list(texts)), labels=("TASK", "DATASET", "METRIC"))
    assert scores["DATASET"].f1 > TDMSCI_DATASET_F1_FLOOR, scores["DATASET"]
