"""Cutting an abstract into sentences for card extraction.

Owns `split_sentences` (and `sentence_spans`, its offsets). Abstracts are full of
dots that end nothing: "e.g.", "et al.", "Fig. 3", "vs.", "0.3%", "arxiv.org/abs",
"https://github.com/x/y.git". A dot, "!" or "?" ends a sentence only when
whitespace follows it and the next word looks like a sentence start. Nothing is
ever dropped: every sentence is a slice of the input, and between two sentences
there is only whitespace.
"""

from __future__ import annotations

import re

__all__ = ["sentence_spans", "split_sentences"]

# Words that end in a dot without ending a sentence (compared lower-cased, dot removed).
_ABBREVIATIONS = frozenset((
    "e.g", "i.e", "al", "cf", "vs", "fig", "figs", "eq", "eqs", "sec", "secs", "no", "nos",
    "resp", "approx", "ref", "refs", "dr", "mr", "mrs", "prof", "st", "w.r.t", "a.k.a", "i.i.d",
    "incl", "viz", "tab", "ch", "pp", "vol", "eds", "ca", "c.f", "esp", "e.t.c",
))
# A candidate end: terminal punctuation, closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
# A sentence starts with an upper-case letter, a digit, or an opening quote/bracket.
_START = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9]")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if not _START.match(text, end) or _is_abbreviation(text, match.start()):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed: list[tuple[int, int]] = []
    for begin, finish in spans:
        while begin < finish and text[begin].isspace():
            begin += 1
        while finish > begin and text[finish - 1].isspace():
            finish -= 1
        if finish > begin:
            trimmed.append((begin, finish))
    return trimmed


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`: slices of it, in order, with no text lost but whitespace."""
    return [text[begin:end] for begin, end in sentence_spans(text)]


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the punctuation at `dot` closes an abbreviation or an initial."""
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE.search(text, max(0, dot - 12), dot)
    if match is None:
        return False
    word = match.group(1)
    glued = match.start(1) > 0 and not (text[match.start(1) - 1].isspace()
                                        or text[match.start(1) - 1] in "([")
    if glued:
        return False  # "OpenImage-O.", "RGB+X.": the end of a name, not an initial
    if len(word) == 1 and word.isupper():
        return True  # an initial ("J. Smith") or a list label ("Step A. ...")
    return word.lower().rstrip(".") in _ABBREVIATIONS
