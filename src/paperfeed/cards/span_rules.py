"""A regular-expression span tagger: the baseline the CRF tagger is measured against.

Owns `RegexSpanTagger`, a `cards.model.Tagger` built from a metric word list,
"X dataset/corpus/benchmark" and "X task" patterns, task-noun suffixes and
acronym/CamelCase tokens. It exists for `benchmarks/bench_spans.py`; extraction
uses the learned tagger (`cards.tagger`) and the rules in `cards.mentions`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from paperfeed.card_types import Span

__all__ = ["RegexSpanTagger"]

_METRIC = re.compile(
    r"\b(?:top-[15] )?(?:accuracy|accuracies|precision|recall|F1(?:[- ]score)?|F-(?:score|measure)"
    r"|BLEU(?:-\d)?|ROUGE(?:-[12L])?|METEOR|CIDEr|SPICE|perplexity|AUC|AUROC|mAP|mIoU|IoU"
    r"|PSNR|SSIM|LPIPS|FID|exact match|EM|error rate|WER|CER|MRR|NDCG(?:@\d+)?|Hits@\d+"
    r"|success rate|Pearson correlation|Spearman correlation|UAS|LAS|Smatch)\b",
    re.IGNORECASE,
)
_NAME = r"[A-Z][A-Za-z0-9]*(?:[-. ]?[A-Z0-9][A-Za-z0-9]*)*"
_DATASET = re.compile(rf"\b({_NAME})(?= (?:data ?set|corpus|benchmark|treebank)s?\b)")
_TASK_WORD = re.compile(r"\b((?:[a-z][a-z-]+ ){0,3}[a-z][a-z-]+)(?= (?:task|problem)s?\b)")
_TASK_NOUN = re.compile(
    r"\b(?:[a-z][a-z-]+ ){0,2}(?:translation|recognition|classification|detection|segmentation"
    r"|parsing|answering|summari[sz]ation|generation|tagging|labell?ing|extraction|retrieval"
    r"|tracking|estimation|resolution|inference|reasoning|captioning|completion)\b"
)
_TASK_STOP = {"the", "a", "an", "this", "that", "our", "these", "its", "their", "of", "in", "on",
              "for", "to", "and", "with", "by", "is", "are", "we", "new", "same", "each"}
# Acronyms ("BERT", "GPT") and CamelCase names ("ResNet"): most are methods.
_METHOD = re.compile(r"\b(?:[A-Z]{2,}[A-Za-z0-9]*|[A-Z][a-z]+[A-Z][A-Za-z0-9]*)\b")


def _trim_task(text: str, start: int) -> tuple[int, str]:
    """Drop leading function words the lazy patterns swallow ("the translation")."""
    words = text.split(" ")
    while len(words) > 1 and words[0].lower() in _TASK_STOP:
        start += len(words[0]) + 1
        words = words[1:]
    return start, " ".join(words)


class RegexSpanTagger:
    """Marks TASK / DATASET / METHOD / METRIC with fixed patterns; no training."""

    def tag(self, sentences: Sequence[str]) -> list[list[Span]]:
        return [self._tag_one(s) for s in sentences]

    def _tag_one(self, sentence: str) -> list[Span]:
        found: list[Span] = []
        # Earlier kinds win an overlap: a metric name is never also a method.
        for m in _METRIC.finditer(sentence):
            found.append(Span("METRIC", m.start(), m.end(), m.group()))
        for m in _DATASET.finditer(sentence):
            found.append(Span("DATASET", m.start(1), m.end(1), m.group(1)))
        for pattern in (_TASK_WORD, _TASK_NOUN):
            for m in pattern.finditer(sentence):
                start, text = _trim_task(m.group(), m.start())
                if text.lower() not in _TASK_STOP:
                    found.append(Span("TASK", start, start + len(text), text))
        for m in _METHOD.finditer(sentence):
            found.append(Span("METHOD", m.start(), m.end(), m.group()))
        taken: list[Span] = []
        for span in found:
            if all(span.end <= t.start or span.start >= t.end for t in taken):
                taken.append(span)
        return sorted(taken, key=lambda s: s.start)
