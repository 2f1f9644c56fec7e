"""Turning what a user typed into a query the lexical engine cannot choke on.

Owns the only query syntax paperfeed supports: bare words and "quoted
phrases". Everything else (field prefixes, operators, brackets, wildcards,
emoji) is dropped, so no user input can reach tantivy's parser as syntax.
Words are split as the index splits them (`paperfeed.text.tokenize`), so each
word of a parsed query is one term of the index.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from paperfeed.text import tokenize

__all__ = ["ParsedQuery", "parse_user_query"]

# Straight and typographic double quotes both open and close phrases.
_QUOTES = re.compile(r"[\"“”„«»]")
# Long pasted texts (query by example) are capped: beyond a few hundred
# distinct words BM25 gains nothing and the boolean query only gets slower.
MAX_DISTINCT_TERMS = 400
MAX_PHRASES = 16
MAX_PHRASE_WORDS = 16


@dataclass(frozen=True)
class ParsedQuery:
    """Lower-cased words with how often they occur, and phrases as word tuples."""

    terms: tuple[tuple[str, int], ...]
    phrases: tuple[tuple[str, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.phrases

    def words(self) -> list[str]:
        """Every word of the query, phrase words included (for embedding-free uses)."""
        return [t for t, _ in self.terms] + [w for p in self.phrases for w in p]

    def to_tantivy(self) -> str:
        """The query in tantivy syntax: only alphanumeric words, quotes and `^` boosts."""
        parts: list[str] = []
        for words in self.phrases:
            parts.append('"' + " ".join(words) + '"')
        for term, count in self.terms:
            # A repeated word counts more, as it would in BM25 over the query text.
            parts.append(term if count == 1 else f"{term}^{count}")
        return " ".join(parts)


def parse_user_query(text: str) -> ParsedQuery:
    """Split `text` into phrases (between double quotes) and words.

    An unclosed quote is ignored; a one-word phrase is a word.
    """
    pieces = _QUOTES.split(text)
    if len(pieces) % 2 == 0:  # odd number of quotes: the last one opens nothing
        pieces[-2:] = [pieces[-2] + " " + pieces[-1]]
    terms: Counter[str] = Counter()
    phrases: list[tuple[str, ...]] = []
    for index, piece in enumerate(pieces):
        # Alphanumeric runs only (no syntax), words of 40 bytes or more dropped.
        words = tokenize(piece)
        if index % 2 == 1 and len(words) > 1 and len(phrases) < MAX_PHRASES:
            phrases.append(tuple(words[:MAX_PHRASE_WORDS]))
        else:
            terms.update(words)
    kept = tuple(terms.most_common(MAX_DISTINCT_TERMS)) if len(terms) > MAX_DISTINCT_TERMS \
        else tuple(terms.items())
    return ParsedQuery(terms=kept, phrases=tuple(dict.fromkeys(phrases)))
