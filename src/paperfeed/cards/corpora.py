"""Annotated scientific-text corpora, read into sentences of tokens and BIO labels.

Owns the readers for SciERC (DyGIE json lines), TDMSci and ScienceIE (CoNLL),
the mapping of each corpus's entity types onto `SPAN_LABELS`, and exact-match
span scoring against gold annotations. It reads the files it is given and never
writes; the data itself stays outside the repository (`../shared/data`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.card_types import SPAN_LABELS, Span
from paperfeed.errors import SourceError

__all__ = [
    "SCIENCEIE_LABELS",
    "SCIERC_LABELS",
    "TDMSCI_LABELS",
    "LabelledSentence",
    "SpanScore",
    "bio_spans",
    "read_pwc_names",
    "read_scienceie",
    "read_scierc",
    "read_tdms_kb",
    "read_tdmsci",
    "score_spans",
]

# SciERC's Material covers datasets and corpora but also languages, images,
# "text" and the like: a loose DATASET. OtherScientificTerm and Generic are dropped.
SCIERC_LABELS: Mapping[str, str] = {
    "Task": "TASK", "Method": "METHOD", "Metric": "METRIC", "Material": "DATASET",
}
TDMSCI_LABELS: Mapping[str, str] = {"TASK": "TASK", "DATASET": "DATASET", "METRIC": "METRIC"}
# ScienceIE's Process mixes methods with physical processes; Material mixes data
# with chemicals. Only Task maps cleanly, so that is all we take by default.
SCIENCEIE_LABELS: Mapping[str, str] = {"Task": "TASK"}


@dataclass(frozen=True)
class LabelledSentence:
    """One sentence as tokens with BIO labels over `SPAN_LABELS` ("O", "B-TASK", "I-TASK", ...)."""

    tokens: tuple[str, ...]
    labels: tuple[str, ...]

    def text_and_spans(self) -> tuple[str, list[Span]]:
        """The tokens joined by single spaces, and the gold spans as character offsets into it."""
        starts, pos = [], 0
        for tok in self.tokens:
            starts.append(pos)
            pos += len(tok) + 1
        text = " ".join(self.tokens)
        spans = []
        for label, first, last in bio_spans(self.labels):
            start, end = starts[first], starts[last] + len(self.tokens[last])
            spans.append(Span(label, start, end, text[start:end]))
        return text, spans


def bio_spans(labels: Sequence[str]) -> list[tuple[str, int, int]]:
    """(label, first token, last token inclusive) for each BIO span; a stray I- opens a span."""
    out: list[tuple[str, int, int]] = []
    current: str | None = None
    first = 0
    for i, tag in enumerate(labels):
        kind = tag[2:] if len(tag) > 2 else ""
        if tag.startswith("I-") and current == kind:
            continue
        if current is not None:
            out.append((current, first, i - 1))
            current = None
        if tag.startswith(("B-", "I-")):
            current, first = kind, i
    if current is not None:
        out.append((current, first, len(labels) - 1))
    return out


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: annotated corpus file not found")


def read_scierc(path: Path, labels: Mapping[str, str] = SCIERC_LABELS
                ) -> list[LabelledSentence]:
    """Every sentence of a SciERC json-lines file, entity types mapped through `labels`.

    SciERC's token offsets are document-level and inclusive; entities of an
    unmapped type are dropped, and an entity overlapping one already taken in
    the sentence is dropped too (SciERC has a few nested mentions).
    """
    _check_file(path)
    out: list[LabelledSentence] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            out.extend(_scierc_doc(line, labels, str(path), line_no))
    return out


def _scierc_doc(line: str, labels: Mapping[str, str], file: str, line_no: int
                ) -> Iterator[LabelledSentence]:
    try:
        doc = json.loads(line)
        sentences, ner = doc["sentences"], doc["ner"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SourceError(f"not a SciERC document: {exc}", file=file, line=line_no) from exc
    if not isinstance(sentences, list) or not isinstance(ner, list) or len(ner) != len(sentences):
        raise SourceError("'sentences' and 'ner' must be lists of the same length",
                          file=file, line=line_no)
    offset = 0
    for tokens, mentions in zip(sentences, ner, strict=True):
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise SourceError("a sentence must be a list of token strings", file=file,
                              line=line_no, field="sentences")
        tags = ["O"] * len(tokens)
        for mention in mentions:
            try:
                start, end, kind = int(mention[0]) - offset, int(mention[1]) - offset, mention[2]
            except (IndexError, TypeError, ValueError) as exc:
                raise SourceError(f"bad entity {mention!r}", file=file, line=line_no,
                                  field="ner") from exc
            if not 0 <= start <= end < len(tokens):
                raise SourceError(f"entity {mention!r} lies outside its sentence", file=file,
                                  line=line_no, field="ner")
            label = labels.get(kind)
            if label is None or any(t != "O" for t in tags[start:end + 1]):
                continue
            tags[start] = f"B-{label}"
            for i in range(start + 1, end + 1):
                tags[i] = f"I-{label}"
        offset += len(tokens)
        if tokens:
            yield LabelledSentence(tuple(tokens), tuple(tags))


def read_tdmsci(path: Path, labels: Mapping[str, str] = TDMSCI_LABELS
                ) -> list[LabelledSentence]:
    """Every sentence of a TDMSci CoNLL file: `token<TAB>char offset<TAB>BIO label` lines."""
    return _read_conll(path, labels, label_column=2, columns=3)


def read_scienceie(path: Path, labels: Mapping[str, str] = SCIENCEIE_LABELS
                   ) -> list[LabelledSentence]:
    """Every sentence of a ScienceIE CoNLL file: `token<TAB>span<TAB>O<TAB>BIO label` lines.

    A `-DOCSTART-` line ends a sentence; entity types not in `labels` become O.
    """
    return _read_conll(path, labels, label_column=3, columns=4)


def _read_conll(path: Path, labels: Mapping[str, str], *, label_column: int, columns: int
                ) -> list[LabelledSentence]:
    _check_file(path)
    out: list[LabelledSentence] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            out.append(LabelledSentence(tuple(tokens), tuple(tags)))
        tokens.clear()
        tags.clear()

    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                flush()
                continue
            parts = line.split("\t")
            if len(parts) != columns or not parts[0]:
                raise SourceError(f"expected {columns} tab-separated columns, got "
                                  f"{len(parts)}: {line[:80]!r}", file=str(path), line=line_no)
            tokens.append(parts[0])
            tags.append(_map_tag(parts[label_column], labels, str(path), line_no))
    flush()
    return out


def _map_tag(tag: str, labels: Mapping[str, str], file: str, line_no: int) -> str:
    if tag == "O":
        return tag
    prefix, _, kind = tag.partition("-")
    if prefix not in ("B", "I") or not kind:
        raise SourceError(f"not a BIO label: {tag!r}", file=file, line=line_no)
    label = labels.get(kind)
    return f"{prefix}-{label}" if label else "O"


def read_tdms_kb(path: Path, label: str) -> list[tuple[str, str]]:
    """(name, label) for each row of an NLP-TDMS KB file (`id<TAB>name<TAB>...`)."""
    _check_file(path)
    out = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split("\t")
        if not line.strip():
            continue
        if len(parts) < 2 or not parts[1].strip():
            raise SourceError("expected id<TAB>name", file=str(path), line=line_no)
        # taskKB spells tasks as identifiers: "machine_translation".
        name = parts[1].strip()
        out.append((name.replace("_", " ") if label == "TASK" else name, label))
    return out


def read_pwc_names(folder: Path) -> list[tuple[str, str]]:
    """(name, TASK/DATASET/METRIC) for every task, dataset and metric in PwC task json files."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: Papers-with-Code tasks folder not found")
    out: list[tuple[str, str]] = []
    for file in sorted(folder.glob("*.json")):
        try:
            tasks = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SourceError(f"not JSON: {exc}", file=str(file)) from exc
        _walk_pwc(tasks, out)
    return out


def _walk_pwc(tasks: Any, out: list[tuple[str, str]]) -> None:
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        if task.get("task"):
            out.append((str(task["task"]), "TASK"))
        for ds in task.get("datasets") or []:
            if not isinstance(ds, dict):
                continue
            if ds.get("dataset"):
                out.append((str(ds["dataset"]), "DATASET"))
            for metric in (ds.get("sota") or {}).get("metrics") or []:
                out.append((str(metric), "METRIC"))
        _walk_pwc(task.get("subtasks"), out)


@dataclass(frozen=True)
class SpanScore:
    """Exact-match span counts for one label (or all of them)."""

    label: str
    gold: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_spans(gold: Iterable[Sequence[Span]], predicted: Iterable[Sequence[Span]],
                labels: Sequence[str] = SPAN_LABELS) -> dict[str, SpanScore]:
    """Exact-match (label, start, end) precision/recall/F1 per label, plus "ALL" (micro).

    Predicted labels outside `labels` are ignored, so a tagger that marks
    METHOD can be scored on a corpus that has no METHOD annotation.
    """
    counts = {label: [0, 0, 0] for label in labels}
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        g = {(s.label, s.start, s.end) for s in gold_spans if s.label in counts}
        p = {(s.label, s.start, s.end) for s in pred_spans if s.label in counts}
        for label, *_ in g:
            counts[label][0] += 1
        for label, *_ in p:
            counts[label][1] += 1
        for label, *_ in g & p:
            counts[label][2] += 1
    scores = {label: SpanScore(label, *c) for label, c in counts.items()}
    scores["ALL"] = SpanScore("ALL", *(sum(c[i] for c in counts.values()) for i in range(3)))
    return scores
