"""The `paperfeed` command: a thin Typer layer over the catalog.

Errors print on one line with a distinct exit code (see `ExitCode`); the
traceback only with `--debug`. Every command that lists things takes `--json`.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperfeed.catalog import Catalog
from paperfeed.cli.account import account_app
from paperfeed.cli.cards import cards_app, shared_data
from paperfeed.cli.common import (
    ExitCode,
    console,
    emit_json,
    err_console,
    handle_errors,
    open_catalog,
    state,
)
from paperfeed.cli.digest import digest_app
from paperfeed.cli.ops import backup, doctor, restore
from paperfeed.cli.store import store_app
from paperfeed.errors import PaperfeedError, SourceError
from paperfeed.index import SearchFilters

if TYPE_CHECKING:
    from paperfeed.application.harvesting import HarvestOutcome

app = typer.Typer(
    name="paperfeed",
    help="A self-hosted research-paper feed: ingest papers, search them, find related work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(digest_app, name="digest")
app.add_typer(cards_app, name="cards")
app.add_typer(account_app, name="account")
app.add_typer(store_app, name="store")
for _command in (backup, restore, doctor):
    app.command()(_command)


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", envvar="PAPERFEED_DATA",
                     help="Folder holding the store and indexes (default: per-user data dir)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """paperfeed: harvest, store, index and search research papers."""
    state.data_dir = data_dir
    state.debug = debug


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
LogJsonOpt = Annotated[bool, typer.Option(
    "--log-json", help="Log one JSON object per line on stderr (access lines, job runs).")]


# --- ingest ---------------------------------------------------------------------


@app.command()
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Input format (default: detected per file)."),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option("--author", help="Author of every paper in a publication list."),
    ] = None,
    index: Annotated[
        bool, typer.Option("--index/--no-index", help="Update the search index afterwards.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingest paper files (listing pages, abstract lists, arXiv JSON, OAI-PMH, Atom, BibTeX)."""
    from paperfeed.cli.render import progress_bar
    from paperfeed.sources import FORMATS, default_limits, iter_input_files

    if format is not None and format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; one of {', '.join(FORMATS)}")
    limits = default_limits()  # PAPERFEED_INPUT_* caps: a bad value stops here, once
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise SourceError("no such file or folder", file=str(missing[0]))
    files = list(iter_input_files(paths))
    named = {p.resolve() for p in paths if p.is_file()}
    reports = []
    with open_catalog(writing="ingest") as catalog:
        out = err_console if as_json else console
        for path in files:
            with progress_bar(out, f"ingest {path.name}", None) as advance:
                rep = catalog.ingest_file(path, format=format, author=author, progress=advance,
                                          limits=limits)
            reports.append(rep)
            if rep.error:
                label = "skipped" if rep.unrecognised else "error"
                kept = f" ({rep.kept} papers before it stay stored)" if rep.kept else ""
                # soft_wrap: one line however long, for people and for grep
                out.print(f"[yellow]{label}:[/yellow] {escape(rep.error)}{kept}",
                          soft_wrap=True)
        indexed = 0
        if index and any(r.report.records for r in reports):
            indexed = _update_index(catalog, out)
    skipped: dict[str, int] = {}
    counts = {"files": len(files), "ingested": 0, "merged": 0, "changed_by_merge": 0,
              "failed_files": 0, "indexed": indexed}
    for rep in reports:
        d = rep.report.as_dict()
        for key in ("ingested", "merged", "changed_by_merge"):
            counts[key] += d[key]
        for reason, n in d["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + n
        # A folder may hold other files (a README, gold labels): those are only skipped.
        ignorable = rep.unrecognised and Path(rep.path).resolve() not in named
        counts["failed_files"] += 1 if rep.error and not ignorable else 0
    totals: dict[str, Any] = {**counts, "skipped": skipped}
    if as_json:
        emit_json({"files": [{"path": r.path, "format": r.format, "error": r.error,
                              "unrecognised": r.unrecognised, **r.report.as_dict()}
                             for r in reports], "totals": totals})
    else:
        table = Table("file", "format", "new", "merged", "skipped", "status")
        for r in reports:
            status = "not a paper format" if r.unrecognised else ("error" if r.error else "ok")
            table.add_row(escape(Path(r.path).name), r.format or "-", str(r.report.ingested),
                          str(r.report.merged), str(sum(r.report.skipped.values())), status)
        console.print(table)
        why_skipped = ", ".join(f"{n} {why}" for why, n in skipped.items()) or "none"
        console.print(
            f"[bold]{totals['ingested']}[/bold] new papers, {totals['merged']} merged into "
            f"stored ones ({totals['changed_by_merge']} changed them), skipped: {why_skipped}; "
            f"{totals['failed_files']} file(s) with errors; {indexed} papers indexed."
        )
    if totals["failed_files"]:
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def _update_index(catalog: Catalog, out: Console, *, full: bool = False) -> int:
    """Catch up the index, the cards and the vocabulary with Rich bars on `out`."""
    from paperfeed.application import catch_up
    from paperfeed.cli.render import RichProgress

    return catch_up(catalog, RichProgress(out), full=full).indexed


@app.command()
@handle_errors
def reindex(
    full: Annotated[bool, typer.Option("--full", help="Re-index every paper, not only new ones.")]
    = False,
) -> None:
    """Bring the search index up to date with the store (embeddings included)."""
    with open_catalog(writing="reindex") as catalog:
        n = _update_index(catalog, console, full=full)
        console.print(f"{n} papers indexed; the index is at store revision "
                      f"{catalog.indexed_revision()}.")


# --- harvest --------------------------------------------------------------------


@app.command()
@handle_errors
def harvest(
    set_spec: Annotated[str, typer.Option("--set", help="OAI-PMH set, e.g. cs or cs:cs:CV.")]
    = "cs",
    from_date: Annotated[str | None, typer.Option("--from", help="First datestamp (YYYY-MM-DD);"
                                                  " default: where the last harvest ended.")]
    = None,
    until: Annotated[str | None, typer.Option("--until", help="Last datestamp (YYYY-MM-DD).")]
    = None,
    base_url: Annotated[str, typer.Option("--base-url", help="OAI-PMH endpoint.")]
    = "https://oaipmh.arxiv.org/oai",
    min_interval: Annotated[float, typer.Option(
        "--min-interval", min=3.0, help="Seconds between requests (arXiv asks for >= 3).")] = 3.0,
    index: Annotated[bool, typer.Option("--index/--no-index")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Harvest arXiv metadata over OAI-PMH, incrementally and resumably."""
    from paperfeed.application.harvesting import harvest as harvest_into
    from paperfeed.cli.render import RichProgress

    out = err_console if as_json else console
    with open_catalog(writing="harvest") as catalog:
        outcome = harvest_into(
            catalog, RichProgress(out), set_spec=set_spec,
            from_date=date.fromisoformat(from_date) if from_date else None,
            until=date.fromisoformat(until) if until else None,
            base_url=base_url, min_interval=min_interval, index=index)
    if as_json:
        emit_json(outcome.as_dict())
    else:
        _print_harvest(outcome)


def _print_harvest(outcome: HarvestOutcome) -> None:
    report = outcome.report
    console.print(f"harvested {report.records} records in {report.pages} pages "
                  f"({report.retries} retries): {outcome.ingested} new, "
                  f"{outcome.merged} merged; {outcome.indexed} indexed.")


# --- search ---------------------------------------------------------------------


def _filters(date_from: str | None, date_to: str | None, category: list[str] | None,
             author: list[str] | None) -> SearchFilters:
    try:
        return SearchFilters(
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            categories=tuple(category or ()),
            authors=tuple(author or ()),
        )
    except ValueError as exc:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None


@app.command()
@handle_errors
def search(
    query: Annotated[str | None, typer.Argument(
        help='Words, "a phrase" in quotes, and card facets: dataset:LaSOT task:"object '
             'tracking" kind:benchmark has:code.')] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="How many results.")] = 10,
    page: Annotated[int, typer.Option("--page", min=1, help="Result page (k per page).")] = 1,
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")]
    = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", "-c",
                                                       help="Category (repeatable).")] = None,
    author: Annotated[list[str] | None, typer.Option("--author", "-a",
                                                     help="Author name (repeatable).")] = None,
    sort: Annotated[str, typer.Option("--sort", help="relevance or date.")] = "relevance",
    mode: Annotated[str, typer.Option("--mode", help="hybrid, lexical or dense.")] = "hybrid",
    queries: Annotated[Path | None, typer.Option(
        "--queries", help="File with one query per line: batch search.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the stored papers (hybrid BM25 + embeddings by default)."""
    from paperfeed.cli.render import print_results, result_json

    if sort not in ("relevance", "date"):
        raise typer.BadParameter("--sort is relevance or date")
    if mode not in ("hybrid", "lexical", "dense"):
        raise typer.BadParameter("--mode is hybrid, lexical or dense")
    if (query is None) == (queries is None):
        raise typer.BadParameter("give a QUERY or --queries FILE (one of them)")
    filters = _filters(date_from, date_to, category, author)
    sort_l: Literal["relevance", "date"] = "date" if sort == "date" else "relevance"
    mode_l: Literal["hybrid", "lexical", "dense"] = mode  # type: ignore[assignment]
    with open_catalog() as catalog:
        _warn_pending(catalog)
        if queries is not None:
            lines = [q.strip() for q in queries.read_text(encoding="utf-8").splitlines()]
            lines = [q for q in lines if q]
            batches = catalog.search_many(lines, k=k, filters=filters, mode=mode_l)
            if as_json:
                emit_json([{"query": q, "results": [result_json(r, i + 1)
                                                    for i, r in enumerate(res)]}
                           for q, res in zip(lines, batches, strict=True)])
            else:
                for q, res in zip(lines, batches, strict=True):
                    console.rule(escape(q))
                    print_results(console, res)
            return
        assert query is not None
        offset = (page - 1) * k
        results = catalog.search(query, k=k, offset=offset, filters=filters, sort=sort_l,
                                 mode=mode_l)
        cards = catalog.cards.get_many(r.paper.id for r in results)
    from paperfeed.cards.facets import split_facets

    datasets = split_facets(query)[1].datasets
    if as_json:
        emit_json([{**result_json(r, offset + i + 1),
                    "card": cards[r.paper.id].to_json() if r.paper.id in cards else None}
                   for i, r in enumerate(results)])
    else:
        print_results(console, results, offset=offset, cards=cards,
                      dataset=datasets[0] if datasets else None)


def _warn_pending(catalog: Catalog) -> None:
    from paperfeed.application.backfill import coverage

    note = coverage(catalog).message()
    if note:  # a first phase: "searching 8,210 of 74,728 papers; the rest are being indexed"
        err_console.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
        return
    pending = catalog.pending()
    if pending:
        err_console.print(f"[yellow]note:[/yellow] {pending} stored papers are not indexed yet; "
                          "run `paperfeed reindex`")


@app.command()
@handle_errors
def related(
    ref: Annotated[str, typer.Argument(help="Store id, arXiv id or DOI of a paper.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Papers related to a given paper."""
    from paperfeed.cli.render import paper_json, print_results, result_json

    with open_catalog() as catalog:
        paper, results = catalog.related(ref, k=k)
    if as_json:
        emit_json({"paper": paper_json(paper),
                   "related": [result_json(r, i + 1) for i, r in enumerate(results)]})
    else:
        console.print(f"Related to [bold]{escape(paper.record.title)}[/bold]\n")
        print_results(console, results)


@app.command()
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="Store id, arXiv id or DOI of a paper.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one paper with everything stored about it."""
    from paperfeed.cli.render import paper_json, print_paper

    with open_catalog() as catalog:
        paper = catalog.find(ref)
        card = catalog.card(paper)
    if as_json:
        emit_json({**paper_json(paper), "card": card.to_json()})
    else:
        print_paper(console, paper, card)


@app.command()
@handle_errors
def stats(as_json: JsonOpt = False) -> None:
    """What is in the store and the index."""
    with open_catalog() as catalog:
        facts = catalog.stats()
    if as_json:
        emit_json(facts)
        return
    table = Table(show_header=False)
    for key in ("papers", "authors", "first_date", "last_date", "revision", "data_dir"):
        table.add_row(key.replace("_", " "), escape(str(facts[key])))
    for source, n in facts["by_source"].items():
        table.add_row(f"from {source}", str(n))
    idx = facts["index"]
    table.add_row("indexed", str(idx.get("count", idx.get("counts", ""))))
    table.add_row("not yet indexed", str(idx["pending"]))
    if idx.get("damaged"):
        table.add_row("index damaged", escape(f"{idx['damaged']}; `paperfeed reindex` rebuilds it"))
    if rebuilding := idx.get("rebuilding"):
        table.add_row("rebuild unfinished", f"{rebuilding['indexed']:,} indexed, "
                      f"{rebuilding['pending']:,} to go; `paperfeed reindex` finishes it")
    table.add_row("model", str(idx.get("model_id", "")))
    for key, value in facts["harvest"].items():
        table.add_row(f"harvest {key}", escape(json.dumps(value, default=str)))
    console.print(table)


def main() -> None:
    app()


# --- quickstart: the README's main job ------------------------------------------------

SAMPLE_QUERY = "out-of-distribution detection"


def _shared_corpus() -> Path | None:
    """The arXiv daily corpus in ../shared/data, looked for beside the cwd and the checkout."""

    data = shared_data("arxiv-daily-cs")
    return data / "arxiv-daily-cs" if data is not None else None


def _tagger_to_train(catalog: Catalog) -> Path | None:
    """The annotated data to train the cards' tagger from, when there is none yet: the
    background catch-up trains it (minutes), after the first page. None: nothing to do."""
    from paperfeed.cards.build import TAGGER_ENV, default_tagger_path

    if default_tagger_path(catalog.store).exists() or os.environ.get(TAGGER_ENV):
        return None
    data = shared_data()
    if data is None:
        console.print("No annotated data (../shared/data) to train the cards' tagger: cards "
                      "come from the rules alone. Train later with `paperfeed cards train`.")
    return data


def _arxiv_reachable(host: str = "oaipmh.arxiv.org") -> bool:
    import socket

    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


@app.command()
@handle_errors
def quickstart(
    corpus: Annotated[Path | None, typer.Option(
        "--corpus", help="Files or folder to load instead of harvesting / the shared corpus.")]
    = None,
    harvest_days: Annotated[int, typer.Option(
        "--harvest-days", min=1, help="Days of arXiv cs to harvest when the network allows.")]
    = 3,
    interactive: Annotated[bool | None, typer.Option(
        "--interactive/--no-interactive",
        help="Keep the web app running (default: when a terminal); without, check it answers "
             "and stop.")] = None,
    serve_app: Annotated[bool, typer.Option("--serve/--no-serve",
                                            help="End with the web app.")] = True,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
) -> None:
    """Load a real corpus, build the index, and open the web app (the README's first command)."""
    from paperfeed.application import catch_up
    from paperfeed.application.backfill import first_papers, queue_catch_up
    from paperfeed.cli.render import RichProgress, print_results
    from paperfeed.sources import iter_input_files

    newest = first_papers()  # a bad PAPERFEED_FIRST_PAPERS stops here, before any work
    with open_catalog(writing="quickstart") as catalog:
        stored = catalog.store.count()
        if corpus is None and _arxiv_reachable():
            from paperfeed.application.harvesting import first_harvest_start
            from paperfeed.application.harvesting import harvest as harvest_into

            # The first harvest takes the last few days; later ones go on from the checkpoint.
            start = first_harvest_start(catalog, harvest_days)
            console.print("Harvesting arXiv cs " + (f"since {start}" if start else "(new papers)"))
            _print_harvest(harvest_into(catalog, RichProgress(console), set_spec="cs",
                                        from_date=start, index=False))
        else:
            source = corpus or _shared_corpus()
            if source is None and stored:
                console.print(f"No network and no shared corpus: using the {stored} papers "
                              "already stored.")
            elif source is None:
                console.print(
                    "No network to harvest arXiv and no ../shared/data/arxiv-daily-cs corpus "
                    "found. Ingest local files with:\n  paperfeed ingest PATH...  "
                    "(listing pages, abstract lists, arXiv JSON lines, OAI-PMH XML, Atom, "
                    "BibTeX)")
                raise typer.Exit(int(ExitCode.OK))
            from paperfeed.cli.render import progress_bar

            for path in iter_input_files([source] if source else []):
                # Loading the same unchanged file again would only merge duplicates: skip it.
                key = f"loaded-file:{path.resolve()}"
                stat = path.stat()
                mark = {"size": stat.st_size, "mtime": stat.st_mtime}
                if catalog.store.load(key) == mark:
                    console.print(f"{escape(path.name)} is already loaded")
                    continue
                with progress_bar(console, f"ingest {path.name}", None) as advance:
                    rep = catalog.ingest_file(path, progress=advance)
                if not rep.error:
                    catalog.store.save(key, mark)
                if rep.error:
                    console.print(f"[yellow]skipped[/yellow] {escape(rep.error)}")
                else:
                    console.print(f"{rep.report.ingested} new papers, {rep.report.merged} "
                                  f"already stored, from {escape(path.name)}")
        # The newest papers first (docs/decisions/first-page.md): the app answers within
        # minutes; the rest, and the tagger's training, is a job the server runs.
        report = catch_up(catalog, RichProgress(console), newest=newest)
        tagger_data = _tagger_to_train(catalog)
        if not report.complete or tagger_data is not None:
            queue_catch_up(catalog, tagger_data=tagger_data)
        console.print(f"{catalog.store.count()} papers stored, {report.indexed} newly indexed, "
                      f"data in {escape(str(catalog.store.data_dir))}")
        console.rule(f"sample search: {SAMPLE_QUERY}")
        print_results(console, catalog.search(SAMPLE_QUERY, k=5))
        if interactive is None:
            interactive = sys.stdin.isatty()
        later = _first_phase_note(catalog, serving=serve_app and interactive)
        if not serve_app:
            console.print('Search with: paperfeed search "your words"')
            if later:
                console.print(later, soft_wrap=True)
            return
        if interactive:
            if later:
                console.print(later, soft_wrap=True)
            _serve(catalog, host, port, schedule=not catalog.store.read_only)
        else:
            _check_web_app(catalog, host, port)
            if later:
                console.print(later, soft_wrap=True)


def _first_phase_note(catalog: Catalog, *, serving: bool) -> str | None:
    """What a first phase left to do, and which command does it; None when nothing."""
    from paperfeed.application.backfill import TAGGER_DATA, coverage, indexing_job

    covered = coverage(catalog)
    job = indexing_job(catalog)
    if job is None:
        return None
    rest = covered.papers - covered.indexed
    todo = [f"embed {rest:,} more papers"] if rest > 0 else []
    if job.payload.get(TAGGER_DATA):
        todo.append("train the cards' tagger")
    todo.append("make every card and fit the feed's vocabulary")
    head = (f"{covered.indexed:,} of {covered.papers:,} papers are searchable (the newest "
            f"first); left to do: {', then '.join(todo)}.")
    if serving:
        return head + " The server does it in the background (progress here and on /stats)."
    return head + (" `paperfeed serve` does it in the background while it serves "
                   "(`paperfeed reindex` indexes the rest now).")


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for all.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Processes; each loads the index and the model.")] = 1,
    schedule: Annotated[bool, typer.Option(
        "--schedule/--no-schedule",
        help="Also run the recurring jobs (harvest, digests); off when a worker runs them.")]
    = True,
    log_json: LogJsonOpt = False,
) -> None:
    """Serve the web app and the JSON API (/api/v1, OpenAPI at /api/docs, /metrics).
    SIGTERM finishes the requests in flight and the job in hand, then exits."""
    from paperfeed.cli.logs import use_json_logs

    log_config = use_json_logs() if log_json else None
    os.environ["PAPERFEED_SCHEDULE"] = "1" if schedule else "0"  # for the worker processes
    if workers == 1:
        with open_catalog() as catalog:
            _serve(catalog, host, port, schedule=schedule and not catalog.store.read_only,
                   log_config=log_config)
        return
    from paperfeed.web.server import address, check_port, serve_workers

    check_port(host, port)
    with open_catalog() as catalog:  # fail here, clearly, if the store cannot open
        data_dir = catalog.store.data_dir
    console.print(f"paperfeed is running at {address(host, port)} with {workers} workers "
                  "(Ctrl-C stops it)")
    serve_workers(host, port, workers, data_dir, log_config=log_config)


def _serve(catalog: Catalog, host: str, port: int, *, schedule: bool = False,
           log_config: dict[str, Any] | None = None) -> None:
    """Serve in the foreground; with `schedule` the recurring jobs run too, and a partial
    index is finished in the background with its bars in this terminal."""
    from paperfeed.cli.render import RichProgress
    from paperfeed.web import create_app
    from paperfeed.web.server import address, adopt_address, check_port, serve_app

    check_port(host, port)
    app = create_app(catalog, schedule=schedule,
                     progress=RichProgress(console) if schedule else None)
    adopt_address(app, address(host, port))
    console.print(f"paperfeed is running at [bold]{address(host, port)}[/bold] (Ctrl-C stops it)")
    serve_app(app, host, port, log_config=log_config)


@app.command()
@handle_errors
def worker(log_json: LogJsonOpt = False) -> None:
    """Run only the recurring jobs (harvest, digests), for a deployment whose web servers
    run with --no-schedule. Settings: PAPERFEED_HARVEST_SETS, PAPERFEED_HARVEST_WHEN,
    PAPERFEED_DIGEST_WHEN and the others in the guide. It also finishes a partial index
    (the quickstart's first phase) in the background. Ctrl-C or SIGTERM stops it after
    the job in hand."""
    import signal

    from paperfeed.application.backfill import CATCH_UP, queue_catch_up, run_catch_up_job
    from paperfeed.cli.logs import use_json_logs
    from paperfeed.cli.render import RichProgress
    from paperfeed.jobs import JobRunner, scheduler_for
    from paperfeed.store.jobs import JobStore

    if log_json:
        use_json_logs()

    with open_catalog(writing="worker") as catalog:
        scheduler = scheduler_for(catalog)
        catching_up = JobRunner(JobStore(catalog.store), {CATCH_UP: lambda job, beat: (
            run_catch_up_job(catalog, job.payload, beat, RichProgress(console)))})
        signal.signal(signal.SIGTERM, lambda *_: scheduler.request_stop())
        console.print("paperfeed worker is running the recurring jobs (Ctrl-C stops it)")
        queue_catch_up(catalog)
        catching_up.start()
        scheduler.start()
        try:
            scheduler.wait()
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.stop()
            catching_up.stop()


def _check_web_app(catalog: Catalog, host: str, port: int) -> None:
    """Start the web app, fetch its main pages over HTTP, print the address, and stop."""
    import httpx

    from paperfeed.web import create_app
    from paperfeed.web.server import BackgroundServer

    with BackgroundServer(create_app(catalog), host=host, port=port) as server:
        console.print(f"paperfeed web app answered at [bold]{server.url}[/bold]:")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for path in ("/daily", f"/search?q={SAMPLE_QUERY}", "/trending", "/stats",
                         "/api/v1/health"):
                response = client.get(path)
                console.print(f"  GET {escape(path)} -> {response.status_code}, "
                              f"{len(response.content):,} bytes")
                if response.status_code != 200:
                    raise PaperfeedError(f"the web app answered {response.status_code} "
                                         f"for {path}")
    console.print("Checked and stopped (--no-interactive). Serve it with: paperfeed serve")
