"""Corpus readers: label mapping, offsets, malformed input named by file and line, scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperfeed.cards.corpora import (
    LabelledSentence,
    bio_spans,
    read_pwc_names,
    read_scienceie,
    read_scierc,
    read_tdms_kb,
    read_tdmsci,
    score_spans,
)
from paperfeed.cards.model import Span
from paperfeed.errors import SourceError

SCIERC_DOC = {
    "doc_key": "X1",
    "sentences": [["We", "train", "CRFs", "on", "the", "Penn", "Treebank", "."],
                  ["Parsing", "accuracy", "improves", "."]],
    "ner": [[[2, 2, "Method"], [5, 6, "Material"]],
            [[8, 8, "Task"], [9, 9, "Metric"], [8, 9, "OtherScientificTerm"]]],
    "relations": [[], []], "clusters": [],
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_scierc_maps_labels_and_document_offsets(tmp_path: Path) -> None:
    path = write(tmp_path / "train.json", json.dumps(SCIERC_DOC) + "\n")
    first, second = read_scierc(path)
    assert first.labels == ("O", "O", "B-METHOD", "O", "O", "B-DATASET", "I-DATASET", "O")
    # Document-level offsets 8 and 9 land on the second sentence's tokens 0 and 1.
    assert second.labels == ("B-TASK", "B-METRIC", "O", "O")


def test_scierc_drops_unmapped_and_overlapping_entities(tmp_path: Path) -> None:
    doc = dict(SCIERC_DOC, ner=[[[2, 2, "Generic"], [4, 6, "Material"], [5, 5, "Method"]], []])
    path = write(tmp_path / "train.json", json.dumps(doc))
    first = read_scierc(path)[0]
    assert first.labels == ("O", "O", "O", "O", "B-DATASET", "I-DATASET", "I-DATASET", "O")


@pytest.mark.parametrize("line", [
    "{not json",
    json.dumps({"sentences": [["a"]]}),
    json.dumps({"sentences": [["a"]], "ner": [[[0, 3, "Task"]]]}),
    json.dumps({"sentences": [["a"]], "ner": [[["x", 0, "Task"]]]}),
    json.dumps({"sentences": [["a"], ["b"]], "ner": [[]]}),
])
def test_scierc_malformed_names_file_and_line(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "bad.json", json.dumps(SCIERC_DOC) + "\n" + line + "\n")
    with pytest.raises(SourceError) as err:
        read_scierc(path)
    assert f"{path}:2" in str(err.value)


def test_tdmsci_reads_sentences(tmp_path: Path) -> None:
    path = write(tmp_path / "t.conll",
                 "We\t0\tO\nuse\t3\tO\nSQuAD\t7\tB-DATASET\n\n"
                 "machine\t0\tB-TASK\ntranslation\t8\tI-TASK\n\n\n")
    first, second = read_tdmsci(path)
    assert first.tokens == ("We", "use", "SQuAD")
    assert first.labels == ("O", "O", "B-DATASET")
    assert second.labels == ("B-TASK", "I-TASK")


@pytest.mark.parametrize("bad", ["SQuAD\tB-DATASET", "SQuAD\t7\tX-DATASET", "SQuAD\t7\tB-",
                                 "\t7\tO"])
def test_tdmsci_malformed_names_file_and_line(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path / "t.conll", "We\t0\tO\n\n" + bad + "\n")
    with pytest.raises(SourceError) as err:
        read_tdmsci(path)
    assert f"{path}:3" in str(err.value)


def test_scienceie_keeps_tasks_only_by_default(tmp_path: Path) -> None:
    path = write(tmp_path / "s.txt",
                 "-DOCSTART- (S1)\n\nNuclear\t0,7\tO\tB-Task\ntheory\t8,14\tO\tI-Task\n"
                 "uses\t15,19\tO\tO\nsilicon\t20,27\tO\tB-Material\n"
                 "-DOCSTART- (S2)\nfoo\t0,3\tO\tB-Process\n")
    first, second = read_scienceie(path)
    assert first.labels == ("B-TASK", "I-TASK", "O", "O")
    assert second.labels == ("O",)
    custom = read_scienceie(path, {"Material": "DATASET"})
    assert custom[0].labels == ("O", "O", "O", "B-DATASET")


def test_missing_file_is_named(tmp_path: Path) -> None:
    for reader in (read_scierc, read_tdmsci, read_scienceie):
        with pytest.raises(FileNotFoundError, match=r"nope\.txt"):
            reader(tmp_path / "nope.txt")


def test_bio_spans_handles_stray_inside_tags() -> None:
    labels = ["I-TASK", "I-TASK", "O", "B-DATASET", "I-TASK", "B-METRIC", "B-METRIC"]
    assert bio_spans(labels) == [("TASK", 0, 1), ("DATASET", 3, 3), ("TASK", 4, 4),
                                 ("METRIC", 5, 5), ("METRIC", 6, 6)]
    assert bio_spans([]) == []


def test_text_and_spans_are_slices() -> None:
    sentence = LabelledSentence(("On", "SQuAD", "v2", ",", "F1", "rises"),
                                ("O", "B-DATASET", "I-DATASET", "O", "B-METRIC", "O"))
    text, spans = sentence.text_and_spans()
    assert text == "On SQuAD v2 , F1 rises"
    assert spans == [Span("DATASET", 3, 11, "SQuAD v2"), Span("METRIC", 14, 16, "F1")]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_score_spans_exact_match() -> None:
    gold = [[Span("TASK", 0, 5, "x"), Span("DATASET", 10, 12, "y")], []]
    pred = [[Span("TASK", 0, 5, "x"), Span("DATASET", 10, 13, "y"), Span("METHOD", 1, 2, "z")],
            [Span("TASK", 0, 1, "a")]]
    scores = score_spans(gold, pred, labels=("TASK", "DATASET"))
    assert (scores["TASK"].gold, scores["TASK"].predicted, scores["TASK"].correct) == (1, 2, 1)
    assert scores["DATASET"].f1 == 0.0
    assert scores["ALL"].precision == pytest.approx(1 / 3)
    assert scores["ALL"].recall == pytest.approx(1 / 2)
    assert "METHOD" not in scores


def test_kb_and_pwc_names(tmp_path: Path) -> None:
    kb = write(tmp_path / "taskKB.tsv", "t0\tmachine_translation\tx\nt1\tsummarization\ty\n")
    assert read_tdms_kb(kb, "TASK") == [("machine translation", "TASK"),
                                        ("summarization", "TASK")]
    with pytest.raises(SourceError, match=r"taskKB\.tsv:3"):
        read_tdms_kb(write(kb, "t0\tparsing\n\nbroken\n"), "TASK")
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    write(tasks / "a.json", json.dumps([{
        "task": "Question Answering",
        "datasets": [{"dataset": "SQuAD", "sota": {"metrics": ["EM", "F1"]}}],
        "subtasks": [{"task": "Open QA", "datasets": []}],
    }]))
    assert read_pwc_names(tasks) == [("Question Answering", "TASK"), ("SQuAD", "DATASET"),
                                     ("EM", "METRIC"), ("F1", "METRIC"), ("Open QA", "TASK")]
    write(tasks / "b.json", "{oops")
    with pytest.raises(SourceError, match=r"b\.json"):
        read_pwc_names(tasks)
