"""A paper's system card, extracted from its title, abstract and comment.

Owns `extract_card`, `extract_cards` and `EXTRACTOR_VERSION`. Cleans LaTeX,
splits sentences, then asks `names`, `results` and `mentions` for their parts;
code links come from `records.find_code_urls`. A learned tagger, when given, adds
task and dataset phrases; without one the rules alone make the card.
Deterministic, and never raises: a card that cannot be made comes back empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from paperfeed.card_types import Card, Result, Span, Tagger
from paperfeed.cards.mentions import find_datasets, find_tasks
from paperfeed.cards.names import find_kind, find_name
from paperfeed.cards.results import find_results
from paperfeed.cards.sentences import split_sentences
from paperfeed.latex import clean_latex
from paperfeed.records import find_code_urls

__all__ = ["EXTRACTOR_VERSION", "extract_card", "extract_cards"]

# Bump whenever a change to the rules changes cards: stored older cards are refreshed.
EXTRACTOR_VERSION = 4
# arXiv caps abstracts at 1,920 characters; anything far longer is not an abstract, and
# cutting it keeps one hostile record from stalling a batch.
_MAX_CHARS = 20_000
_BATCH = 256
_OWN = re.compile(r"\b(?:we|our|us|this\s+(?:paper|work|study|article|survey))\b", re.I)


@dataclass(frozen=True)
class _Paper:
    title: str
    sentences: list[str]
    raw_links: str  # the raw abstract and comment: `find_code_urls` reads `\url{}` itself


def extract_card(
    title: str, abstract: str, comment: str | None = None, *, tagger: Tagger | None = None
) -> Card:
    """The card of one paper; rules only unless a `tagger` is given."""
    return next(extract_cards([(title, abstract, comment)], tagger=tagger))


def extract_cards(
    papers: Iterable[tuple[str, str, str | None]], *, tagger: Tagger | None = None
) -> Iterator[Card]:
    """Cards for many papers, in order; the tagger sees the sentences of a batch at once."""
    batch: list[tuple[str, str, str | None]] = []
    for paper in papers:
        batch.append(paper)
        if len(batch) == _BATCH:
            yield from _batch_cards(batch, tagger)
            batch = []
    if batch:
        yield from _batch_cards(batch, tagger)


def _batch_cards(batch: Sequence[tuple[str, str, str | None]], tagger: Tagger | None
                 ) -> list[Card]:
    prepared = [_prepare(*paper) for paper in batch]
    tagged = _tag(tagger, prepared)
    return [_card_or_empty(paper, spans) for paper, spans in zip(prepared, tagged, strict=True)]


def _prepare(title: object, abstract: object, comment: object) -> _Paper:
    try:
        raw_title = title[:_MAX_CHARS] if isinstance(title, str) else ""
        raw_abstract = abstract[:_MAX_CHARS] if isinstance(abstract, str) else ""
        raw_comment = comment[:_MAX_CHARS] if isinstance(comment, str) else ""
        clean_title = clean_latex(raw_title)
        text = clean_latex(raw_abstract)
        # A title some sources derive from the abstract's opening words says nothing new.
        if clean_title and text.startswith(clean_title.rstrip(".… ")):
            clean_title = ""
        sentences = split_sentences(text)
        if raw_comment:
            sentences += split_sentences(clean_latex(raw_comment))
        return _Paper(clean_title, sentences, raw_abstract + "\n" + raw_comment)
    except Exception:  # a bug in cleaning must cost this card, never the batch
        return _Paper("", [], "")


def _tag(tagger: Tagger | None, papers: Sequence[_Paper]) -> list[list[Span]]:
    if tagger is None:
        return [[] for _ in papers]
    texts = [s for p in papers for s in ([p.title] if p.title else []) + p.sentences]
    try:
        per_sentence = tagger.tag(texts)
    except Exception:  # the tagger is an extra: without it the rules still make the card
        return [[] for _ in papers]
    spans: list[list[Span]] = []
    at = 0
    for paper in papers:
        count = len(paper.sentences) + (1 if paper.title else 0)
        spans.append([s for group in per_sentence[at:at + count] for s in group])
        at += count
    return spans


def _card_or_empty(paper: _Paper, spans: Sequence[Span]) -> Card:
    try:
        return _card(paper, spans)
    except Exception:  # never let one odd abstract stop a corpus run
        return Card(name=None, kind="method", version=EXTRACTOR_VERSION)


def _card(paper: _Paper, spans: Sequence[Span]) -> Card:
    title, sentences = paper.title, paper.sentences
    name = find_name(title, sentences)
    kind = find_kind(title, sentences, name)
    is_data = kind in ("benchmark", "dataset")
    # The tagger's DATASET spans are left out: with them dataset precision on the dev cards
    # fell from 0.95 to 0.84 at equal recall (benchmarks/bench_cards.py); its TASK spans add
    # recall at equal F1, so tasks keep them.
    datasets = find_datasets(sentences, exclude=[] if is_data or not name else [name],
                             own_data=name if is_data else None, spans=[])
    tasks = find_tasks(title, sentences, spans=spans)
    results = tuple(_with_dataset(r, datasets)
                    for r in find_results(sentences, own_from=_own_from(sentences, name)))
    return Card(
        name=name,
        kind=kind,
        tasks=tuple(tasks),
        datasets=tuple(datasets),
        results=results,
        code_urls=find_code_urls(paper.raw_links),
        version=EXTRACTOR_VERSION,
    )


def _own_from(sentences: Sequence[str], name: str | None) -> int:
    """The first sentence about this paper's own work; figures before it are background."""
    for index, sentence in enumerate(sentences):
        if _OWN.search(sentence) or (name and name in sentence):
            return index
    return 0


def _with_dataset(result: Result, datasets: Sequence[str]) -> Result:
    """Tie a figure to the dataset its claim names, else to the named dataset nearest to it
    in its sentence ("77.5% on LaSOT and 80.3% on GOT-10k": each to its own)."""
    named = [d for d in datasets if d in result.claim]
    if named:
        return Result(result.value, result.claim, result.sentence, max(named, key=len))
    at = result.sentence.find(result.value)
    best: tuple[int, str] | None = None
    for dataset in datasets:
        for found in re.finditer(re.escape(dataset), result.sentence):
            # A dataset after the figure ("66.1% AUC on LaSOT") binds closer than one before.
            gap = found.start() - at if found.start() >= at else 2 * (at - found.end())
            if at >= 0 and (best is None or gap < best[0]):
                best = (gap, dataset)
    if best is None:
        return result
    return Result(result.value, result.claim, result.sentence, best[1])
