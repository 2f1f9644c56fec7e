"""Reported figures in an abstract: the value as written, what it measures, and where.

Owns `find_results` and `find_values`. A figure is a number with something that
makes it a measurement: a percentage ("66.1%", "95 percent"), a factor ("2.17x",
"5 times", "3-fold"), a scale word ("774-million"), a unit ("1.14 minutes",
"30 FPS"), thousands separators ("296,401"), a count of things ("720 videos"), or
a metric beside it ("45.3 mAP", "a BLEU of 31.2"). Bare numbers are left out, and
so are years, citation and section numbers, and numbers inside names
("ResNet-50", "CompressTracker-4", "GPT-3.5"). The claim is the metric words next
to the value: after it when they are nouns ("2.17x speed up"), otherwise before
it ("reduces the number of trainable parameters by 95%").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from paperfeed.card_types import Result

__all__ = ["find_results", "find_values"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
# Not part of a name or a longer number: "ResNet-50", "v1.5", "3.2.1", "10/20".
_START = r"(?<![\w.,/^_])(?<![A-Za-z]-)(?<!\d-)"
_METRIC = (
    r"(?:mAP|AP(?:50|75)?|BLEU(?:-\d)?|ROUGE(?:-[\dLl]+)?|F1(?:-score)?|AUC|AUROC|AUPR|"
    r"PSNR|SSIM|LPIPS|FID|FVD|IoU|mIoU|EM|CIDEr|METEOR|WER|CER|NDCG(?:@\d+)?|MRR|"
    r"Recall@\d+|R@\d+|Acc(?:uracy)?|top-1|top-5|points?|pts|dB|ELO|Elo)"
)
_UNIT = (
    r"(?:milli)?seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|ms|fps|FPS|GB|MB|KB|TB|"
    r"GiB|MiB|dB|Hz|kHz|MHz|GHz|mW|kWh|TFLOPs?|GFLOPs?|FLOPs|tokens/s|it/s|USD"
)
_VALUE = re.compile(
    _START + r"(?:"
    rf"(?P<pct>{_NUM}\s?(?:%|percent(?:age points?)?\b|percentage points?\b|pp\b))"
    rf"|(?P<factor>{_NUM}\s?(?:[x×](?![\w]|\s?\d)|times\b|-fold\b|\s?fold\b))"
    rf"|(?P<scale>{_NUM}[\s-](?:million|billion|thousand|trillion)\b|{_NUM}[KMB](?=\s+[a-z]+s\b))"
    rf"|(?P<unit>{_NUM}\s?(?:{_UNIT})(?![\w]))"
    rf"|(?P<metric>{_NUM}(?=\s?{_METRIC}\b))"
    rf"|(?P<grouped>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?![\d,]))"
    rf"|(?P<count>\d{{3,}}(?:\.\d+)?(?=[\s-]+(?:[a-z][\w-]*\s+)?[a-z][a-z-]*s\b))"
    r")",
)
# "an mAP of 45.3", "BLEU = 31.2": a decimal after the metric that names it.
_METRIC_THEN_VALUE = re.compile(rf"\b{_METRIC}\s*(?:of\s+|=\s*|:\s*)?(\d+\.\d+)(?!\d|\.\d|%)")
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"(?:19|20)\d\d")
_REFERENCE = re.compile(
    r"(?:Section|Sec\.|Table|Tab\.|Fig\.|Figure|Eq\.|Equation|Appendix|Chapter|Step|Stage|"
    r"Version|Theorem|Lemma|Algorithm|Line|Level|Task|Phase|Part|Round)\s*$",
    re.IGNORECASE,
)
# Words that end a claim when read after a value, and that bound it when read before.
_STOP_AFTER = frozenset(
    ("while", "whereas", "and", "but", "which", "that", "compared", "when", "with",
     "respectively", "across")
)
_BOUNDARY_BEFORE = frozenset(("while", "whereas", "and", "but", "which", "with", "at",
                              "compared"))
_FUNCTION = _words(
    """a an the of by to up from for in on at as over nearly almost about around roughly
    approximately only just least more than less is are was were be been being by its their
    our this that these those it we respectively over under within reaching
    achieving achieves achieve achieved yielding yields obtaining obtains up down
    """
)
_PREPOSITIONS = _words("in on for of over across at under with")
_RANGE = re.compile(r"\s*(?:to|-|–|—)\s*")
# Words a claim read after a value does not end on ("speed up" keeps its "up").
_TRAILING = _FUNCTION - {"up", "down", "average"}


def find_values(sentence: str) -> list[tuple[str, int, int]]:
    """The figures in one sentence: (value as written, start, end), in order."""
    spans = [(m.start(), m.end(), m.lastgroup or "") for m in _VALUE.finditer(sentence)]
    taken = {start for start, _, _ in spans}
    spans.extend((m.start(1), m.end(1), "metric") for m in _METRIC_THEN_VALUE.finditer(sentence)
                 if m.start(1) not in taken)
    values: list[tuple[str, int, int]] = []
    for start, end, kind in sorted(spans):
        value = sentence[start:end]
        if kind in ("count", "grouped") and _YEAR.fullmatch(value.replace(",", "")):
            continue
        if _REFERENCE.search(sentence, max(0, start - 12), start):
            continue
        if _in_citation(sentence, start, end):
            continue
        values.append((value, start, end))
    return values


def find_results(sentences: Sequence[str], *, own_from: int = 0) -> list[Result]:
    """Every figure in `sentences[own_from:]`, in order, with its claim and sentence.

    Sentences before `own_from` describe earlier work (the motivation of an
    abstract), so their figures are not this paper's results.
    """
    results: list[Result] = []
    for sentence in sentences[max(own_from, 0):]:
        if not _DIGIT.search(sentence):
            continue
        values = find_values(sentence)
        parts = [_claim_parts(sentence, start, end) for _, start, end in values]
        claims = [" ".join(before + after) for before, after in parts]
        for i, (before, after) in enumerate(parts):
            if before or not after or after[0].lower() not in _PREPOSITIONS:
                continue
            # "29% and up to 47% over ...": no words of its own before it, so the claim
            # of the figure before it, else the words after the preposition.
            claims[i] = claims[i - 1] if i > 0 and claims[i - 1] else " ".join(after[1:])
        for i in range(1, len(values)):
            if not claims[i]:
                claims[i] = claims[i - 1]
        for i in range(len(values) - 2, -1, -1):
            # "by 6.2% to 10.5% in detection AUROC": the lower end shares the upper's claim.
            if _RANGE.fullmatch(sentence[values[i][2]:values[i + 1][1]]) and claims[i + 1]:
                claims[i] = claims[i + 1]
        seen: set[str] = set()
        for (value, _, _), claim in zip(values, claims, strict=True):
            if value in seen:
                continue
            seen.add(value)
            results.append(Result(value=value, claim=claim, sentence=sentence))
    return results


def _in_citation(sentence: str, start: int, end: int) -> bool:
    opening = sentence.rfind("[", 0, start)
    if opening < 0 or sentence.rfind("]", 0, start) > opening:
        return False
    closing = sentence.find("]", end)
    return closing >= 0 and re.fullmatch(r"[\d,\s–-]*", sentence[opening + 1:closing]) is not None


def _claim_parts(sentence: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """The claim words (before, after) a value: after alone when they are nouns."""
    after = _words_after(sentence[end:])
    if after and after[0].lower() not in _PREPOSITIONS:
        return [], after
    return _words_before(sentence[:start]), after


def _words_after(text: str) -> list[str]:
    """Up to six words after a value, to the first punctuation or stop word."""
    text = text.lstrip(" -")
    words: list[str] = []
    for raw in text[:120].split():
        word = raw.rstrip(".,;:)]")
        if not word or word.lower() in _STOP_AFTER or word[0] in "([" or _VALUE_LIKE.match(word):
            break
        words.append(word)
        if len(words) == 6 or word != raw:
            break
    while words and words[-1].lower() in _TRAILING:
        words.pop()
    return words


def _words_before(text: str) -> list[str]:
    """Up to six words before a value, back to a clause boundary, without function words."""
    clause = re.split(r"[,;:(\[]|\s[-–—]\s", text[-160:])[-1]
    words = clause.split()
    for i in range(len(words) - 1, -1, -1):
        if words[i].lower() in _BOUNDARY_BEFORE:
            words = words[i + 1:]
            break
    while words and (words[-1].lower() in _FUNCTION or _VALUE_LIKE.match(words[-1])):
        words.pop()
    words = words[-6:]
    while words and words[0].lower() in _FUNCTION:
        words.pop(0)
    return words


_VALUE_LIKE = re.compile(r"[\d.,%x×]+$")
