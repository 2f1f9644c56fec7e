"""What each page and endpoint shows, built once for both the HTML pages and the JSON API."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import quote

from paperfeed.application.backfill import coverage, indexing_job
from paperfeed.authors import active_periods, coauthor_groups, frequent_coauthors, monthly_counts
from paperfeed.cards.display import about
from paperfeed.cards.model import Card
from paperfeed.catalog import Catalog, PaperNotFoundError
from paperfeed.clock import utc_now
from paperfeed.index import SearchFilters
from paperfeed.presentation import clean_segment, present
from paperfeed.rank import HALF_LIFE, WINDOWS, one_per_client, trending_scores
from paperfeed.store import StoredPaper
from paperfeed.store.browse import Browse
from paperfeed.store.cards import FacetCount
from paperfeed.store.merge import name_key
from paperfeed.store.schedule import Schedule
from paperfeed.web import schemas as s

if TYPE_CHECKING:
    from paperfeed.jobs.schedule import Scheduler

T = TypeVar("T")


class AuthorNotFoundError(PaperNotFoundError):
    """No stored paper has an author with this name key."""


class FacetNotFoundError(PaperNotFoundError):
    """No card names this dataset or task."""


def paper_ref(paper: StoredPaper) -> str:
    return present(paper).ref


def author_ref(name: str, key: str | None = None) -> s.AuthorRef:
    key = key if key is not None else name_key(name)
    return s.AuthorRef(name=name, key=key, url=f"/authors/{quote(key, safe='')}")


def paging(page: int, per_page: int, total: int | None, has_more: bool | None = None
           ) -> s.PageInfo:
    pages = max(1, math.ceil(total / per_page)) if total is not None else None
    more = has_more if has_more is not None else (total is not None and page * per_page < total)
    return s.PageInfo(page=page, per_page=per_page, total=total, pages=pages, has_more=more)


def period(day: date, view: s.View) -> tuple[date, date]:
    """The day, ISO week (Monday to Sunday) or calendar month around `day`."""
    if view == "day":
        return day, day
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def facet_ref(facet: str, found: FacetCount) -> s.FacetRef:
    return s.FacetRef(name=found.value, key=found.key, papers=found.papers,
                      url=f"/{facet}s/{quote(found.value, safe='')}")


def card_out(card: Card) -> s.CardOut:
    """A card for the API and templates; each figure gets the fragment id the paper page
    gives its sentence, so a leaderboard can link to the very sentence."""
    return s.CardOut.model_construct(
        name=card.name, kind=card.kind, tasks=list(card.tasks), datasets=list(card.datasets),
        results=[s.ResultOut.model_construct(value=r.value, claim=r.claim, sentence=r.sentence,
                                             dataset=r.dataset, anchor=f"result-{i}")
                 for i, r in enumerate(card.results, start=1)],
        code_urls=list(card.code_urls), version=card.version)


def _segment(text: str, highlighted: bool) -> s.Segment:
    """A highlight run with its LaTeX cleaned but its edge spaces kept (they join the runs)."""
    # model_construct: our own strings, and 150 validations a search cost 1.5 ms.
    return s.Segment.model_construct(text=clean_segment(text), highlighted=highlighted)


def harvest_health(key: str, state: dict[str, Any], updated: datetime, now: datetime
                   ) -> s.HarvestOut:
    """What a checkpoint says about its job: current, behind, or cut off midway."""
    kind: Literal["harvest", "load", "other"] = (
        "harvest" if key.startswith("oai") else "load" if key.startswith("loaded-file:")
        else "other")
    status: Literal["ok", "behind", "interrupted", "running", "loaded", "unknown"] = "unknown"
    detail = ""
    if kind == "load":
        status, detail = "loaded", f"file loaded {updated:%Y-%m-%d %H:%M} UTC"
    elif kind == "harvest":
        progress = state.get("in_progress")
        last = state.get("last_until")
        if isinstance(progress, dict):
            quiet = now - updated
            status = "running" if quiet < timedelta(minutes=10) else "interrupted"
            where = f"{progress.get('position', '?')} of {progress.get('complete_list_size', '?')}"
            detail = (f"at record {where}, last page {int(quiet.total_seconds() // 60)} min ago"
                      + ("" if status == "running" else "; run `paperfeed harvest` to resume"))
        elif isinstance(last, str) and last:
            try:
                behind = (now.date() - date.fromisoformat(last)).days
            except ValueError:
                behind = -1
            status = "ok" if 0 <= behind <= 2 else "behind"
            detail = f"harvested up to {last}" + (f", {behind} days ago" if behind > 2 else "")
    return s.HarvestOut(key=key, kind=kind, updated_at=updated, status=status, detail=detail,
                        state=state)


def _public_origin(origin: str) -> str:
    """An origin as the public may see it: a user's upload is never traced to the user."""
    return origin if origin in ("operator", "harvest") else "upload"


class Views:
    """The read and vote operations of the web app over one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.browse = Browse(catalog.store)
        self._cache: dict[str, tuple[int, Any]] = {}
        # The running scheduler, when this process runs one (for the jobs' next runs).
        self.scheduler: Scheduler | None = None

    def _per_revision(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` once per store revision: counts over the whole store cost 10-200 ms
        and change only when papers are added."""
        revision = self.catalog.store.revision()
        hit = self._cache.get(name)
        if hit is not None and hit[0] == revision:
            return cast(T, hit[1])
        value = compute()
        self._cache[name] = (revision, value)
        return value

    # --- papers -----------------------------------------------------------------------

    def _brief_fields(self, paper: StoredPaper, listed: date | None, votes: int, voted: bool,
                      card: Card | None = None) -> dict[str, object]:
        r, view = paper.record, present(paper)
        return {
            "card": card_out(card) if card is not None else None,
            "id": paper.id, "ref": view.ref, "url": view.path, "title": view.title,
            "authors": [author_ref(name) for name in view.authors],
            "abstract": view.abstract, "categories": list(r.categories),
            "listed": listed if listed is not None else view.listed,
            "arxiv_id": r.arxiv_id, "abs_url": r.abs_url, "pdf_url": r.pdf_url,
            "code_urls": list(r.code_urls), "votes": votes, "voted": voted,
        }

    def briefs(self, papers: Sequence[StoredPaper], voter: str | None) -> list[s.PaperBrief]:
        ids = [p.id for p in papers]
        votes = self.browse.vote_counts(ids)
        mine = self.browse.voted_by(voter, ids)
        cards = self.catalog.cards.get_many(ids)
        return [s.PaperBrief.model_validate(
            self._brief_fields(p, None, votes.get(p.id, 0), p.id in mine, cards.get(p.id)))
            for p in papers]

    def papers(self, ids: Sequence[int], voter: str | None) -> list[s.PaperBrief]:
        return self.briefs(self.catalog.store.get_many(list(ids), details=False), voter)

    def find(self, ref: str) -> StoredPaper:
        return self.catalog.find(ref)

    def paper(self, ref: str, voter: str | None) -> s.PaperDetail:
        paper = self.find(ref)
        votes = self.browse.vote_counts([paper.id]).get(paper.id, 0)
        voted = paper.id in self.browse.voted_by(voter, [paper.id])
        r = paper.record
        sources = sorted({p.source for p in r.provenance})
        origins = {name: {"source": source, "origin": _public_origin(origin)}
                   for name, (source, origin, _) in
                   self.catalog.store.field_origins(paper.id).items()}
        return s.PaperDetail.model_validate({
            "field_origins": origins,
            "unverified": origins.get("title", {}).get("origin") == "upload",
            **self._brief_fields(paper, None, votes, voted, self.catalog.card(paper)),
            "arxiv_version": r.arxiv_version, "doi": r.doi, "submitted": r.submitted,
            "updated": r.updated, "comment": present(paper).comment,
            "journal_ref": r.journal_ref, "sources": sources,
        })

    def related(self, ref: str, k: int, voter: str | None) -> list[s.PaperBrief]:
        _, results = self.catalog.related(ref, k=k)
        return self.briefs([res.paper for res in results], voter)

    # --- search -----------------------------------------------------------------------

    def search(
        self, query: str, *, date_from: date | None = None, date_to: date | None = None,
        category: str | None = None, author: str | None = None, sort: s.Sort = "relevance",
        mode: s.Mode = "hybrid", page: int = 1, per_page: int = 20, voter: str | None = None,
    ) -> s.SearchOut:
        filters = SearchFilters(
            date_from=date_from, date_to=date_to,
            categories=(category,) if category else (), authors=(author,) if author else ())
        results = []
        if query.strip():
            # One more than a page tells whether there is a next page without counting all.
            results = self.catalog.search(query, k=per_page + 1, offset=(page - 1) * per_page,
                                          filters=filters, sort=sort, mode=mode)
        shown = results[:per_page]
        briefs = self.briefs([r.paper for r in shown], voter)
        covered = coverage(self.catalog, self._per_revision("count", self.catalog.store.count))
        return s.SearchOut(
            indexed=covered.indexed, papers=covered.papers, partial=covered.partial,
            index_note=covered.message(),
            query=query, date_from=date_from, date_to=date_to, category=category, author=author,
            sort=sort, mode=mode,
            results=[s.SearchResult(
                paper=brief, score=r.hit.score, lexical_score=r.hit.lexical_score,
                dense_score=r.hit.dense_score,
                title=[_segment(g.text, g.highlighted) for g in r.hit.title],
                snippet=[_segment(g.text, g.highlighted) for g in r.hit.snippet],
            ) for r, brief in zip(shown, briefs, strict=True)],
            paging=paging(page, per_page, None, has_more=len(results) > per_page),
        )

    # --- daily and trending -----------------------------------------------------------

    def daily(self, day: date | None = None, *, view: s.View = "day", category: str | None = None,
              page: int = 1, per_page: int = 50, voter: str | None = None) -> s.DailyOut:
        day = day or self.browse.latest_day()
        if day is None:
            return s.DailyOut(date=None, view=view, start=None, end=None, category=category,
                              previous=None, next=None, counts=[], papers=[],
                              paging=paging(page, per_page, 0))
        start, end = period(day, view)
        listing = self.browse.listing(start, end, category=category,
                                      offset=(page - 1) * per_page, limit=per_page)
        before, after = self.browse.neighbour_days(start, end, category)
        counts = [s.DayCount(date=d, count=n)
                  for d, n in self.browse.day_counts(start, end, category)]
        listed = self.browse.listed_days(listing.paper_ids)
        return s.DailyOut(
            date=day, view=view, start=start, end=end, category=category,
            previous=before, next=after, counts=counts,
            papers=self._listed(listing.paper_ids, listed, voter),
            paging=paging(page, per_page, listing.total),
        )

    def _listed(self, ids: Sequence[int], listed: dict[int, date | None], voter: str | None
                ) -> list[s.PaperBrief]:
        papers = self.catalog.store.get_many(list(ids), details=False)
        votes = self.browse.vote_counts(ids)
        mine = self.browse.voted_by(voter, ids)
        cards = self.catalog.cards.get_many(ids)
        return [s.PaperBrief.model_validate(self._brief_fields(
            p, listed.get(p.id), votes.get(p.id, 0), p.id in mine, cards.get(p.id)))
            for p in papers]

    def trending(self, window: s.View = "week", *, page: int = 1, per_page: int = 30,
                 voter: str | None = None, now: datetime | None = None) -> s.TrendingOut:
        latest = self.browse.latest_day()
        since = latest - timedelta(days=WINDOWS[window] - 1) if latest else None
        ranked = []
        if since is not None:
            votes = self.browse.votes_since(datetime(1970, 1, 1), listed_from=since)
            ranked = trending_scores(one_per_client(votes), now or utc_now())
        shown = ranked[(page - 1) * per_page: page * per_page]
        briefs = {b.id: b for b in self.papers([pid for pid, _, _ in shown], voter)}
        return s.TrendingOut(
            window=window, since=since, half_life_hours=HALF_LIFE.total_seconds() / 3600,
            items=[s.TrendingItem(paper=briefs[pid], score=round(score, 6), votes=n)
                   for pid, score, n in shown if pid in briefs],
            paging=paging(page, per_page, len(ranked)),
        )

    # --- authors ----------------------------------------------------------------------

    def author(self, key: str, *, group: int | None = None, page: int = 1, per_page: int = 50,
               voter: str | None = None) -> s.AuthorOut:
        key = name_key(key)
        papers = self.browse.author_papers(key) if key else []
        if not papers:
            raise AuthorNotFoundError(f"no author named {key!r}")
        spellings = self.browse.author_names(key)
        groups = [g for g in coauthor_groups(papers) if len(g) > 1] or [[p.paper_id
                                                                          for p in papers]]
        by_id = {p.paper_id: p for p in papers}
        selected = papers
        if group is not None and 0 <= group < len(groups):
            members = set(groups[group])
            selected = [p for p in papers if p.paper_id in members]
        coauthors = frequent_coauthors(papers)
        group_top = [frequent_coauthors([by_id[i] for i in g], limit=3) for g in groups[:8]]
        names = self.browse.display_names(
            [k for k, _ in coauthors] + [k for top in group_top for k, _ in top])
        shown = selected[(page - 1) * per_page: page * per_page]
        days = [p.day for p in papers]
        return s.AuthorOut(
            key=key, name=spellings.most_common(1)[0][0], spellings=sorted(spellings),
            total=len(selected),
            papers=self._listed([p.paper_id for p in shown],
                                {p.paper_id: p.day for p in shown}, voter),
            coauthors=[s.CoauthorOut(author=author_ref(names.get(k, k), k), papers=n)
                       for k, n in coauthors],
            months=[s.MonthCount(month=m, count=n) for m, n in monthly_counts(days)],
            periods=[s.PeriodOut(start=p.start, end=p.end, papers=p.papers)
                     for p in active_periods(days)],
            groups=[s.AuthorGroup(paper_ids=g, coauthors=[author_ref(names.get(k, k), k)
                                                          for k, _ in top])
                    for g, top in zip(groups[:8], group_top, strict=True)],
            paging=paging(page, per_page, len(selected)),
        )

    # --- datasets and tasks (from the cards) --------------------------------------------

    def facets(self, facet: s.Facet, *, prefix: str = "", limit: int = 100) -> list[s.FacetRef]:
        def compute() -> list[s.FacetRef]:
            return [facet_ref(facet, f)
                    for f in self.catalog.cards.top(facet, limit=limit, prefix=prefix)]

        # The full lists are cached per store revision; prefixes are typed by anyone, so
        # caching them would let a crawler grow the cache without bound.
        return compute() if prefix else self._per_revision(f"facets:{facet}:{limit}", compute)

    def facet(self, facet: s.Facet, name: str, *, page: int = 1, per_page: int = 50,
              voter: str | None = None) -> s.FacetOut:
        found = self.catalog.cards.facet(facet, name)
        if found is None:
            raise FacetNotFoundError(f"no paper's card names the {facet} {name!r}")
        listed = self.catalog.cards.papers_naming(facet, found.key, limit=per_page,
                                                  offset=(page - 1) * per_page)
        papers = self._listed([pid for pid, _ in listed], dict(listed), voter)
        rows = []
        for brief in papers:
            results = brief.card.results if brief.card is not None else []
            if facet == "dataset":
                results = about(results, found.value)
            rows.append(s.FacetRow(paper=brief, results=results))
        other: s.Facet = "task" if facet == "dataset" else "dataset"
        related = self.catalog.cards.named_with(facet, found.key, other, limit=12)
        quoted = f'"{found.value}"' if " " in found.value else found.value
        return s.FacetOut(
            facet=facet, name=found.value, key=found.key, papers=found.papers, rows=rows,
            tasks=[facet_ref(other, f) for f in related], search=f"{facet}:{quoted}",
            paging=paging(page, per_page, found.papers))

    def find_authors(self, query: str, limit: int = 20) -> list[s.AuthorMatch]:
        return [s.AuthorMatch(author=author_ref(name, key), papers=n)
                for key, name, n in self.browse.find_authors(query, limit=limit)]

    # --- store facts and votes --------------------------------------------------------

    def categories(self) -> list[s.CategoryCount]:
        return [s.CategoryCount(category=c, count=n)
                for c, n in self._per_revision("categories", self.browse.categories)]

    def stats(self) -> s.StatsOut:
        stats = dict(self._per_revision("stats", self.catalog.store.stats))
        index = {**self.catalog.index.manifest(), "pending": self.catalog.pending()}
        jobs = [harvest_health(key, value, at, utc_now())
                for key, value, at in self.catalog.store.harvest_jobs()]
        pending = index["pending"]
        health: Literal["ok", "index behind", "empty"]
        job = indexing_job(self.catalog)
        if not stats["papers"]:
            health, detail = "empty", "nothing stored yet: run `paperfeed quickstart` or ingest"
        elif pending and job is not None:
            health, detail = "index behind", (f"{pending:,} papers not yet searchable: being "
                                              "indexed in the background")
        elif pending:
            health, detail = "index behind", f"{pending} papers not yet searchable: run reindex"
        else:
            health, detail = "ok", "every stored paper is searchable"
        return s.StatsOut(
            papers=stats["papers"], authors=stats["authors"], first_date=stats["first_date"],
            last_date=stats["last_date"], by_source=stats["by_source"],
            top_categories=[s.CategoryCount(category=c, count=n)
                            for c, n in stats["top_categories"].items()],
            index=index,
            harvest=jobs, scheduled=self.scheduled_jobs(),
            indexing=None if job is None else s.IndexingOut(
                state=job.state, step=job.progress.get("step"), label=job.progress.get("label"),
                done=int(job.progress.get("done") or 0), total=job.progress.get("total"),
                started_at=job.started_at),
            health=health, health_detail=detail,
        )

    def scheduled_jobs(self) -> list[s.ScheduledJobOut]:
        """Each recurring job's last run and last failure (whoever ran it), and its next run
        when this process schedules it."""
        schedule = Schedule(self.catalog.store)
        last = schedule.last_runs()
        planned = {job.name: job for job in self.scheduler.jobs} if self.scheduler else {}
        out = []
        for name in sorted(set(last) | set(planned)):
            run, failed = last.get(name), schedule.last_failure(name)
            out.append(s.ScheduledJobOut(
                name=name, last_started=run.started_at if run else None,
                last_finished=run.finished_at if run else None,
                outcome=run.outcome if run else None, counts=dict(run.counts) if run else {},
                last_failure_at=failed.started_at if failed else None,
                last_failure=failed.error if failed else None,
                next_run=(self.scheduler.next_run(planned[name])
                          if self.scheduler and name in planned else None)))
        return out

    def vote(self, ref: str, voter: str, *, up: bool, client: str | None = None) -> s.VoteOut:
        paper = self.find(ref)
        if up:
            self.browse.vote(paper.id, voter, client=client)
        else:
            self.browse.unvote(paper.id, voter)
        votes = self.browse.vote_counts([paper.id]).get(paper.id, 0)
        return s.VoteOut(paper_id=paper.id, votes=votes,
                         voted=paper.id in self.browse.voted_by(voter, [paper.id]))
