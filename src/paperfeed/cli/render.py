"""Rich rendering and JSON shapes for the CLI: progress bars, result lists, paper views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from paperfeed.application.progress import Advance, Step
from paperfeed.cards.model import Card
from paperfeed.catalog import Result
from paperfeed.cli.terminal import neutralise
from paperfeed.index import Segment
from paperfeed.presentation import clean_segment, present
from paperfeed.store import StoredPaper


class RateColumn(ProgressColumn):
    """Items per second, e.g. "812 papers/s"."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text(f"-- {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


@contextmanager
def progress_bar(
    console: Console, description: str, total: int | None, unit: str = "papers"
) -> Iterator[Any]:
    """A progress bar with count, rate and ETA; yields a callback taking an increment."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False,
                  disable=not console.is_terminal and console.quiet) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        yield advance


class RichProgress:
    """A use case's progress (`paperfeed.application.progress`) as Rich bars on `console`:
    a bar per counted step, a spinner for the vocabulary, notes in yellow."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def step(self, step: Step) -> Iterator[Advance]:
        if step.kind == "vocabulary":
            with self.console.status(step.label):
                yield lambda n: None
            return
        with progress_bar(self.console, step.label, step.total, unit=step.unit) as advance:
            yield advance

    def note(self, message: str) -> None:
        self.console.print(f"[yellow]{escape(message)}[/yellow]", soft_wrap=True)  # one line


def segments_text(segments: Sequence[Segment], style: str = "bold yellow",
                  *, plain_marks: bool = False) -> Text:
    """Highlighted segments styled; with `plain_marks` (no terminal) wrapped in **...**."""
    text = Text()
    for seg in segments:
        # Neutralised here too, so the layout counts what will be shown.
        shown = neutralise(clean_segment(seg.text))
        if seg.highlighted and plain_marks:
            text.append(f"**{shown}**")
        else:
            text.append(shown, style=style if seg.highlighted else None)
    return text


def segments_marked(segments: Sequence[Segment]) -> str:
    """Plain text (LaTeX cleaned) with highlights marked as [[term]], for JSON output."""
    return "".join(f"[[{clean_segment(s.text)}]]" if s.highlighted else clean_segment(s.text)
                   for s in segments)


def paper_ref(paper: StoredPaper) -> str:
    record = paper.record
    if record.arxiv_id:
        return f"arXiv:{record.arxiv_id}" + (f"v{record.arxiv_version}"
                                             if record.arxiv_version else "")
    if record.doi:
        return f"doi:{record.doi}"
    return f"#{paper.id}"


def authors_line(paper: StoredPaper, limit: int = 6) -> str:
    names = [a.name for a in paper.record.authors]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" … (+{len(names) - limit})"
    return ", ".join(names)


def paper_date(paper: StoredPaper) -> str:
    r = paper.record
    d = r.first_listed or r.submitted
    return d.isoformat() if d else ""


def card_lines(card: Card, *, dataset: str | None = None, figures: int = 3) -> list[str]:
    """A card as Rich markup lines: what it proposes and names, then its figures (those about
    `dataset` when given), each with the sentence it came from."""
    from paperfeed.cards.display import about, headline

    facts = [f"[bold]{escape(card.name)}[/bold]" if card.name else "", card.kind,
             ("tasks: " + escape("; ".join(card.tasks[:4]))) if card.tasks else "",
             ("datasets: " + escape(", ".join(card.datasets[:6]))) if card.datasets else "",
             "[green]code[/green]" if card.code_urls else ""]
    lines = [" · ".join(f for f in facts if f)]
    shown = about(card.results, dataset) if dataset else headline(card, figures)
    for r in shown:
        lines.append(f"[bold cyan]{escape(r.value)}[/bold cyan] {escape(r.claim)}"
                     f"  [dim]“{escape(r.sentence)}”[/dim]")
    return lines


def print_results(console: Console, results: Sequence[Result], *, offset: int = 0,
                  cards: Mapping[int, Card] | None = None, dataset: str | None = None) -> None:
    if not results:
        console.print("[dim]No papers found.[/dim]")
        return
    for rank, res in enumerate(results, start=offset + 1):
        p = res.paper
        head = Text(f"{rank:>3}. ", style="bold")
        marks = not console.is_terminal
        head.append_text(segments_text(res.hit.title, style="bold yellow underline",
                                       plain_marks=marks))
        console.print(head)
        meta = " · ".join(x for x in (paper_ref(p), paper_date(p),
                                      " ".join(p.record.categories[:3]),
                                      authors_line(p, 4)) if x)
        # A listing by filters or facets alone has no relevance score to show.
        scored = res.hit.lexical_score is not None or res.hit.dense_score is not None
        score = f"  score {res.hit.score:.3f}" if scored else ""
        console.print(f"     [dim]{escape(meta)}{score}[/dim]")
        snippet = segments_text(res.hit.snippet, plain_marks=marks)
        snippet.pad_left(5)
        console.print(snippet)
        card = (cards or {}).get(p.id)
        if card is not None:
            for line in card_lines(card, dataset=dataset):
                console.print("     " + line)
        console.print()


def result_json(res: Result, rank: int) -> dict[str, Any]:
    p = res.paper
    return {
        "rank": rank,
        "id": p.id,
        "arxiv_id": p.record.arxiv_id,
        "doi": p.record.doi,
        "title": present(p).title,
        "title_highlighted": segments_marked(res.hit.title),
        "snippet": segments_marked(res.hit.snippet),
        "authors": [a.name for a in p.record.authors],
        "categories": list(p.record.categories),
        "date": paper_date(p) or None,
        "score": res.hit.score,
        "lexical_score": res.hit.lexical_score,
        "dense_score": res.hit.dense_score,
    }


def paper_json(paper: StoredPaper) -> dict[str, Any]:
    """The paper for `--json`: the one paper shape (`paperfeed.presentation`)."""
    return present(paper).as_json()


def print_paper(console: Console, paper: StoredPaper, card: Card | None = None) -> None:
    """The paper as `paperfeed show` prints it: texts LaTeX-cleaned, as the web page."""
    r = paper.record
    view = present(paper)
    title = escape(view.title) + (" [dim](title derived from the abstract)[/dim]"
                               if r.title_derived else "")
    console.print(f"[bold]{title}[/bold]")
    if r.authors:
        console.print(escape(", ".join(a.name for a in r.authors)))
    facts = [
        ("id", f"{paper.id}  ({paper_ref(paper)})"),
        ("categories", " ".join(r.categories)),
        ("submitted", r.submitted.isoformat() if r.submitted else ""),
        ("updated", r.updated.isoformat() if r.updated else ""),
        ("first listed", r.first_listed.isoformat() if r.first_listed else ""),
        ("abstract page", r.abs_url or ""),
        ("pdf", r.pdf_url or ""),
        ("code", "  ".join(r.code_urls)),
        ("comment", view.comment or ""),
        ("journal", r.journal_ref or ""),
    ]
    for label, value in facts:
        if value:
            console.print(f"[dim]{label:>13}[/dim]  {escape(value)}")
    console.print()
    console.print(escape(view.abstract))
    console.print()
    if card is not None:
        console.rule("system card")
        console.print(_card_details(card))
        console.print()
    for p in r.provenance:
        where = f"{p.file}:{p.line}" if p.file and p.line else (p.file or p.record_id or "")
        console.print(f"[dim]seen in {escape(p.source)}: {escape(where)}[/dim]")


def _card_details(card: Card) -> str:
    rows = [("proposes", f"{card.name or '(no name)'} ({card.kind})"),
            ("tasks", "; ".join(card.tasks)), ("datasets", ", ".join(card.datasets)),
            ("code", "  ".join(card.code_urls))]
    lines = [f"[dim]{label:>13}[/dim]  {escape(value)}" for label, value in rows if value]
    for r in card.results:
        lines.append(f"[dim]{'result':>13}[/dim]  [bold cyan]{escape(r.value)}[/bold cyan] "
                     f"{escape(r.claim)}")
        lines.append(f"{'':>15}[dim]“{escape(r.sentence)}”[/dim]")
    return "\n".join(lines)
