"""How a stored paper is shown: one paper shape and one LaTeX-cleaning path for every channel.

Owns `PaperView`, the paper as people and scripts see it, which the CLI (`paperfeed
show`, `--json`), the JSON API and web pages (`web.views`), the Atom and RSS feeds
(`feeds.atom`) and the email digests (`digest.send`) all build from. Its text fields
are plain Unicode: stored LaTeX is cleaned here, once, by `paperfeed.latex`
(``$\\alpha$-divergence`` becomes ``α-divergence``). Escaping for HTML, XML or a
terminal stays each channel's job, and so does each channel's own field naming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import quote

from paperfeed.latex import clean_latex
from paperfeed.store import StoredPaper

__all__ = ["PaperView", "clean_segment", "clean_text", "present"]


def clean_text(text: str) -> str:
    """Stored text (a title, an abstract, a comment) as plain text: the one cleaning path."""
    return clean_latex(text)


def clean_segment(text: str) -> str:
    """A highlighted run of a title or snippet, cleaned, keeping one space at either edge
    where it had one (the runs are shown joined)."""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    return f"{lead}{clean_latex(text)}{trail}"


@dataclass(frozen=True)
class PaperView:
    """A stored paper as shown; the cleaned texts are computed on first use only, so a
    list that shows titles never cleans a comment."""

    paper: StoredPaper

    @property
    def id(self) -> int:
        return self.paper.id

    @property
    def ref(self) -> str:
        """The paper's public reference: its arXiv id when known, else its store id."""
        return self.paper.record.arxiv_id or str(self.paper.id)

    @property
    def path(self) -> str:
        """The paper page's path on the web app (`/papers/{ref}`)."""
        return f"/papers/{quote(self.ref, safe='/')}"

    @property
    def listed(self) -> date | None:
        """The arXiv listing day, else the submission date."""
        record = self.paper.record
        return record.first_listed or record.submitted

    @property
    def authors(self) -> list[str]:
        return [a.name for a in self.paper.record.authors]

    @cached_property
    def title(self) -> str:
        return clean_text(self.paper.record.title)

    @cached_property
    def abstract(self) -> str:
        return clean_text(self.paper.record.abstract)

    @cached_property
    def comment(self) -> str | None:
        comment = self.paper.record.comment
        return clean_text(comment) if comment else None

    def as_json(self) -> dict[str, Any]:
        """Everything stored about the paper, texts cleaned: `paperfeed show --json`."""
        r = self.paper.record
        return {
            "id": self.id,
            "ref": self.ref,
            "arxiv_id": r.arxiv_id,
            "arxiv_version": r.arxiv_version,
            "doi": r.doi,
            "title": self.title,
            "title_derived": r.title_derived,
            "abstract": self.abstract,
            "authors": [{"name": a.name, "given": a.given, "family": a.family}
                        for a in r.authors],
            "categories": list(r.categories),
            "listed": self.listed.isoformat() if self.listed else None,
            "submitted": r.submitted.isoformat() if r.submitted else None,
            "updated": r.updated.isoformat() if r.updated else None,
            "first_listed": r.first_listed.isoformat() if r.first_listed else None,
            "abs_url": r.abs_url,
            "pdf_url": r.pdf_url,
            "code_urls": list(r.code_urls),
            "comment": self.comment,
            "journal_ref": r.journal_ref,
            "source_ids": [{"scheme": s, "value": v} for s, v in r.source_ids],
            "provenance": [
                {"source": p.source, "file": p.file, "line": p.line, "record_id": p.record_id}
                for p in r.provenance
            ],
            "revision": self.paper.revision,
        }


def present(paper: StoredPaper) -> PaperView:
    """The paper as every channel shows it."""
    return PaperView(paper)
