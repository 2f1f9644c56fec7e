"""The JSON API's response models; the HTML templates render the same objects."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

View = Literal["day", "week", "month"]
Sort = Literal["relevance", "date"]
Mode = Literal["hybrid", "lexical", "dense"]


class Segment(BaseModel):
    text: str
    highlighted: bool


class AuthorRef(BaseModel):
    name: str
    key: str = Field(description="The author page's key: the lower-cased, accent-folded name")
    url: str


class ResultOut(BaseModel):
    """A figure the abstract reports, as written, and the sentence it came from."""

    value: str = Field(description='As written: "66.1%", "2.17x", "1,012"')
    claim: str = Field(description='The metric or claim it belongs to: "AUC on LaSOT"')
    sentence: str = Field(description="The abstract's sentence that reports it")
    dataset: str | None = Field(description="The dataset it was reported on, when tied to one")
    anchor: str = Field(description="Fragment id of the figure on the paper page")


class CardOut(BaseModel):
    """A system card, extracted from the title, abstract and comment (not hand-checked)."""

    name: str | None = Field(description="The method, model, benchmark or dataset proposed")
    kind: str = Field(description="method, framework, model, benchmark, dataset, survey, "
                                  "analysis, attack or defense")
    tasks: list[str]
    datasets: list[str]
    results: list[ResultOut]
    code_urls: list[str]
    version: int = Field(description="Extractor version that made it")


class PaperBrief(BaseModel):
    """A paper as listed: enough to read the abstract and decide to open it."""

    id: int
    ref: str = Field(description="arXiv id when known, else the store id: /papers/{ref}")
    url: str
    title: str = Field(description="LaTeX cleaned to plain text; never HTML")
    authors: list[AuthorRef]
    abstract: str
    categories: list[str]
    listed: Date | None = Field(description="arXiv listing day, else submission date")
    arxiv_id: str | None
    abs_url: str | None
    pdf_url: str | None
    code_urls: list[str]
    votes: int
    voted: bool
    card: CardOut | None = Field(default=None, description="Its system card, once extracted")


class FieldOriginOut(BaseModel):
    source: str = Field(description="the input format (arxiv-daily, oai, bibtex ...)")
    origin: Literal["operator", "harvest", "upload"] = Field(
        description="the operator's ingest, a harvest, or a user's upload (never named)")


class PaperDetail(PaperBrief):
    arxiv_version: int | None
    doi: str | None
    submitted: Date | None
    updated: Date | None
    comment: str | None
    journal_ref: str | None
    sources: list[str]
    field_origins: dict[str, FieldOriginOut] = Field(
        default_factory=dict,
        description="Who set each field's current value (fields stored before origins were "
                    "kept are absent)")
    unverified: bool = Field(
        False, description="True when the title came from a user's upload that no trusted "
                           "source (the operator's ingest, a harvest) has confirmed")


class PageInfo(BaseModel):
    page: int
    per_page: int
    total: int | None = Field(description="Number of items, when known")
    pages: int | None
    has_more: bool


class SearchResult(BaseModel):
    paper: PaperBrief
    score: float
    lexical_score: float | None
    dense_score: float | None
    title: list[Segment]
    snippet: list[Segment]


class SearchOut(BaseModel):
    query: str
    date_from: Date | None
    date_to: Date | None
    category: str | None
    author: str | None
    sort: Sort
    mode: Mode
    results: list[SearchResult]
    paging: PageInfo
    indexed: int = Field(description="Papers search covers (the index's papers)")
    papers: int = Field(description="Papers stored")
    partial: bool = Field(description="True while some stored papers are not indexed yet")
    index_note: str | None = Field(
        description='While partial: "searching 8,210 of 74,728 papers; the rest are being '
                    'indexed"')


class DayCount(BaseModel):
    date: Date
    count: int


class DailyOut(BaseModel):
    date: Date | None = Field(description="The day asked for (the newest listing day by default)")
    view: View
    start: Date | None
    end: Date | None
    category: str | None
    previous: Date | None = Field(description="The nearest earlier period with papers")
    next: Date | None
    counts: list[DayCount]
    papers: list[PaperBrief]
    paging: PageInfo


class TrendingItem(BaseModel):
    paper: PaperBrief
    score: float = Field(description="Sum over votes of 2^(-age/half-life)")
    votes: int


class TrendingOut(BaseModel):
    window: View
    since: Date | None = Field(description="Papers listed on or after this day are eligible")
    half_life_hours: float
    items: list[TrendingItem]
    paging: PageInfo


class CoauthorOut(BaseModel):
    author: AuthorRef
    papers: int


class PeriodOut(BaseModel):
    start: str
    end: str
    papers: int


class MonthCount(BaseModel):
    month: str
    count: int


class AuthorGroup(BaseModel):
    paper_ids: list[int]
    coauthors: list[AuthorRef]


class AuthorOut(BaseModel):
    key: str
    name: str
    spellings: list[str]
    total: int
    papers: list[PaperBrief]
    coauthors: list[CoauthorOut]
    months: list[MonthCount]
    periods: list[PeriodOut]
    groups: list[AuthorGroup] = Field(
        description="Papers split by shared co-authors; more than one sizeable group means the "
                    "name may belong to several people")
    paging: PageInfo


class AuthorMatch(BaseModel):
    author: AuthorRef
    papers: int


class CategoryCount(BaseModel):
    category: str
    count: int


class HarvestOut(BaseModel):
    key: str
    kind: Literal["harvest", "load", "other"]
    updated_at: datetime
    status: Literal["ok", "behind", "interrupted", "running", "loaded", "unknown"]
    detail: str
    state: dict[str, object]


class ScheduledJobOut(BaseModel):
    name: str
    last_started: datetime | None
    last_finished: datetime | None
    outcome: str | None = Field(description="ok, failed, or running (also: its process died)")
    counts: dict[str, object]
    last_failure_at: datetime | None
    last_failure: str | None
    next_run: datetime | None = Field(
        description="When this process runs it next (UTC); null when it runs no schedule")


class IndexingOut(BaseModel):
    """The background catch-up finishing a partial index (`application.backfill`)."""

    state: str
    step: str | None = Field(description="index, cards or vocabulary")
    label: str | None
    done: int
    total: int | None
    started_at: datetime | None


class StatsOut(BaseModel):
    papers: int
    authors: int
    first_date: Date | None
    last_date: Date | None
    by_source: dict[str, int]
    top_categories: list[CategoryCount]
    index: dict[str, object]
    harvest: list[HarvestOut]
    scheduled: list[ScheduledJobOut] = []
    indexing: IndexingOut | None = None
    health: Literal["ok", "index behind", "empty"]
    health_detail: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    papers: int


class SessionOut(BaseModel):
    csrf_token: str = Field(description="Send as X-CSRF-Token with votes, with the pf_voter cookie")


class MeOut(BaseModel):
    id: int
    email: str
    name: str


class VoteOut(BaseModel):
    paper_id: int
    votes: int
    voted: bool


class ErrorDetail(BaseModel):
    location: str
    message: str


class ErrorOut(BaseModel):
    error: str
    message: str
    errors: list[ErrorDetail] = []


class RatingIn(BaseModel):
    value: Literal[-1, 0, 1] = Field(description="1 thumbs up, -1 thumbs down, 0 none")


class MineOut(BaseModel):
    paper_id: int
    rating: int
    saved: bool
    tags: list[str]


class LibraryIn(BaseModel):
    tags: list[str] = Field(default=[], max_length=20)


class LibraryItem(BaseModel):
    paper: PaperBrief
    tags: list[str]
    saved_at: datetime


Facet = Literal["dataset", "task"]


class FacetRef(BaseModel):
    """A dataset or task some cards name, in its most frequent spelling."""

    name: str
    key: str = Field(description="The folded form pages and searches match by")
    url: str
    papers: int


class FacetRow(BaseModel):
    """A paper naming the dataset or task, with the figures it reports there."""

    paper: PaperBrief
    results: list[ResultOut] = Field(description="Figures about this dataset (all of the "
                                                 "paper's for a task), each with its sentence")


class FacetOut(BaseModel):
    """A dataset or task page: an extracted leaderboard, newest papers first."""

    facet: Facet
    name: str
    key: str
    papers: int
    rows: list[FacetRow]
    tasks: list[FacetRef] = Field(description="Tasks most often named with this dataset, or "
                                              "datasets most often named with this task")
    search: str = Field(description="The search query listing the same papers")
    paging: PageInfo


class JobOut(BaseModel):
    """A background job of yours (an import) with its progress."""

    id: int
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    name: str = Field(description="the uploaded file's name, or 'pasted list'")
    target: str = Field(description="profile or library")
    progress: dict[str, object] = Field(
        description="phase (reading, storing, indexing, cards, done) and counts")
    message: str = Field(description="the outcome, once done or failed")
    created_at: datetime
    finished_at: datetime | None
