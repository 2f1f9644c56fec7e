"""The polite, resumable, incremental arXiv OAI-PMH harvester (and a small API search).

Owns `PoliteClient` (minimum interval between requests, a descriptive
User-Agent, retries with exponential backoff, `Retry-After` on 429/503,
unreadable responses retried), the `HarvestState` checkpoint protocol with an
in-memory implementation, `OaiHarvester` / `harvest_arxiv` (ListRecords by set
and date window, page by page, checkpointing only after the sink has taken a
page) and `search_arxiv` over the Atom API. Parsing is in `oai.py` / `atom.py`.
"""

from __future__ import annotations

import copy
import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from types import TracebackType
from typing import Any, Protocol, TypeVar

import httpx

from paperfeed import __version__
from paperfeed.clock import utc_now
from paperfeed.errors import HarvestError, SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources.atom import AtomFeed, parse_atom_feed
from paperfeed.sources.oai import OaiPage, parse_oai_page

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_OAI_URL",
    "DEFAULT_USER_AGENT",
    "HarvestProgress",
    "HarvestReport",
    "HarvestState",
    "HarvestWindow",
    "MemoryHarvestState",
    "OaiHarvester",
    "PoliteClient",
    "harvest_arxiv",
    "parse_retry_after",
    "search_arxiv",
]

DEFAULT_OAI_URL = "https://oaipmh.arxiv.org/oai"
DEFAULT_API_URL = "https://export.arxiv.org/api/query"
DEFAULT_USER_AGENT = (
    f"paperfeed/{__version__} (self-hosted research-paper feed; polite OAI-PMH harvester, "
    "one request at a time, >= 3 s apart)"
)

T = TypeVar("T")
Sink = Callable[[list[PaperRecord]], object]


# --- politeness -----------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date).

    `now` is the wall-clock time (seconds since the epoch) an HTTP date is
    measured from. None when the header is absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    reference = time.time() if now is None else now
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - reference)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class PoliteClient:
    """HTTP GETs that respect a server: spaced out, identified, retried with care.

    Every request starts at least `min_interval` seconds after the previous one.
    Connection errors, timeouts, 5xx and unreadable bodies are retried with
    exponential backoff (`backoff`, doubling, capped at `max_backoff`); 429/503
    wait for `Retry-After` when given. After `max_attempts` tries, or when a
    server asks to wait longer than `max_retry_after`, `HarvestError` names the URL.
    `contact` (an e-mail address) is appended to the User-Agent.
    """

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        contact: str | None = None,
        min_interval: float = 3.0,
        max_attempts: int = 5,
        backoff: float = 5.0,
        max_backoff: float = 300.0,
        max_retry_after: float = 600.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
    ) -> None:
        if min_interval < 0 or max_attempts < 1:
            raise ValueError("min_interval must be >= 0 and max_attempts >= 1")
        self.min_interval = min_interval
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.retries = 0
        self._sleep = sleep
        self._clock = clock
        self._wallclock = wallclock
        self._last_start: float | None = None
        self._not_before = float("-inf")
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            follow_redirects=True,
        )
        # arXiv asks bulk harvesters to say who they are and how to reach them.
        self.user_agent = f"{user_agent} (mailto:{contact})" if contact else user_agent
        self._client.headers["User-Agent"] = self.user_agent

    def close(self) -> None:
        """Close the connection pool if this object opened it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait_turn(self) -> None:
        now = self._clock()
        ready = self._not_before
        if self._last_start is not None:
            ready = max(ready, self._last_start + self.min_interval)
        if ready > now:
            self._sleep(ready - now)

    def _backoff_delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        parse: Callable[[bytes], T],
    ) -> T:
        """GET `url` and return `parse(body)`; a `SourceError` from `parse` means retry."""
        full_url = str(httpx.URL(url, params=dict(params or {})))
        problem = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            self._wait_turn()
            self._last_start = self._clock()
            delay = self._backoff_delay(attempt)
            try:
                response = self._client.get(url, params=dict(params or {}))
            except httpx.TransportError as exc:
                # Includes timeouts, refused connections and bodies cut short.
                problem = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return parse(response.content)
                    except SourceError as exc:
                        problem = f"unreadable response: {exc}"
                elif status in (429, 503):
                    wait = parse_retry_after(response.headers.get("Retry-After"),
                                             now=self._wallclock())
                    problem = f"HTTP {status}" + (f" (Retry-After {wait:.0f} s)" if wait else "")
                    if wait is not None:
                        if wait > self.max_retry_after:
                            raise HarvestError(
                                f"{full_url}: server asks to retry after {wait:.0f} s, longer "
                                f"than the {self.max_retry_after:.0f} s we wait; try again later"
                            )
                        delay = wait
                elif status >= 500 or status == 408:
                    problem = f"HTTP {status}"
                else:
                    raise HarvestError(
                        f"{full_url}: HTTP {status} {response.reason_phrase}: "
                        f"{response.text[:200]!r}"
                    )
            if attempt < self.max_attempts:
                self.retries += 1
                self._not_before = self._clock() + delay
        raise HarvestError(
            f"{full_url}: giving up after {self.max_attempts} attempts; last problem: {problem}"
        )


# --- checkpoints --------------------------------------------------------------


class HarvestState(Protocol):
    """Where the harvester keeps its checkpoints (JSON-able dicts under a key)."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryHarvestState:
    """A `HarvestState` in a dict, for tests and one-off runs.

    Values go through JSON on save so anything the store could not persist fails here too.
    """

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def load(self, key: str) -> dict[str, Any] | None:
        value = self.values.get(key)
        return copy.deepcopy(value) if value is not None else None

    def save(self, key: str, value: dict[str, Any]) -> None:
        self.values[key] = json.loads(json.dumps(value))


# --- the harvester ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HarvestWindow:
    """The datestamp window of a ListRecords request (both ends inclusive)."""

    from_date: date | None
    until: date

    def to_json(self) -> dict[str, str | None]:
        return {
            "from": self.from_date.isoformat() if self.from_date else None,
            "until": self.until.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> HarvestWindow:
        start = value.get("from")
        return cls(
            from_date=date.fromisoformat(start) if start else None,
            until=date.fromisoformat(value["until"]),
        )


@dataclass(frozen=True, slots=True)
class HarvestProgress:
    """Where a harvest is: records delivered this run, position in the whole list."""

    records: int
    pages: int
    position: int
    complete_list_size: int | None


@dataclass(frozen=True, slots=True)
class HarvestReport:
    """What one run did."""

    pages: int
    records: int
    deleted: int
    retries: int
    resumed: bool
    restarted: bool
    window: HarvestWindow
    set_spec: str | None
    metadata_prefix: str
    complete_list_size: int | None


def _utc_today() -> date:
    return utc_now().date()


class OaiHarvester:
    """Harvests arXiv's OAI-PMH ListRecords into a sink, checkpointing page by page.

    A run resumes an unfinished window from its saved resumption token (and
    restarts the window from its start if the token has expired), otherwise it
    starts a new window at the last finished window's `until` minus
    `overlap_days` (the store dedupes the overlap) and ends it today (UTC).
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_OAI_URL,
        http: PoliteClient | None = None,
        max_restarts: int = 2,
        today: Callable[[], date] = _utc_today,
        **client_options: Any,
    ) -> None:
        self.base_url = base_url
        self.max_restarts = max_restarts
        self._today = today
        self._owns_http = http is None
        self.http = http or PoliteClient(**client_options)

    def close(self) -> None:
        """Close the HTTP client if this harvester made it."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> OaiHarvester:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def state_key(self, set_spec: str | None, metadata_prefix: str) -> str:
        """The checkpoint key of one (endpoint, format, set) list."""
        return f"oai-harvest|{self.base_url}|{metadata_prefix}|{set_spec or '*'}"

    def harvest(
        self,
        sink: Sink,
        state: HarvestState,
        *,
        set_spec: str | None = None,
        from_date: date | None = None,
        until: date | None = None,
        metadata_prefix: str = "arXiv",
        overlap_days: int = 1,
        progress: Callable[[HarvestProgress], object] | None = None,
    ) -> HarvestReport:
        """Harvest one window into `sink`, saving the checkpoint after each page it took.

        Raises `HarvestError` when the server keeps failing or answers an OAI
        error; an exception from `sink` propagates and leaves the checkpoint at
        the last page the sink took.
        """
        key = self.state_key(set_spec, metadata_prefix)
        saved = state.load(key) or {}
        pending = saved.get("in_progress")
        token: str | None = None
        resumed = False
        try:
            pending_window = HarvestWindow.from_json(pending["window"]) if pending else None
        except (KeyError, TypeError, ValueError) as exc:
            raise HarvestError(f"unreadable harvest checkpoint {key!r}: {exc!r}") from None
        if pending and pending_window and self._same_window(pending_window, from_date, until):
            window = pending_window
            token = pending.get("resumption_token")
            resumed = token is not None
        else:
            try:
                window = self._new_window(saved.get("last_until"), from_date, until, overlap_days)
            except (TypeError, ValueError) as exc:
                raise HarvestError(f"unreadable harvest checkpoint {key!r}: {exc!r}") from None

        retries_before = self.http.retries
        pages = records = deleted = restarts = 0
        position = int(pending.get("position", 0)) if resumed and pending else 0
        size: int | None = pending.get("complete_list_size") if resumed and pending else None
        while True:
            used_token = token
            params = (
                {"verb": "ListRecords", "resumptionToken": token}
                if token
                else self._first_params(window, set_spec, metadata_prefix)
            )
            page: OaiPage = self.http.get(self.base_url, params, parse=parse_oai_page)
            if page.error_code == "badResumptionToken" and used_token is not None:
                if restarts >= self.max_restarts:
                    raise HarvestError(
                        f"{self.base_url}: resumption token refused again after "
                        f"{restarts} restarts of window {window.to_json()}: {page.error_message}"
                    )
                # Tokens expire; start the window over (the store dedupes what it has).
                restarts += 1
                token, position = None, 0
                continue
            if page.error_code and page.error_code != "noRecordsMatch":
                raise HarvestError(
                    f"{self.base_url}: OAI-PMH error {page.error_code} for {params}: "
                    f"{page.error_message}"
                )
            if page.records:
                sink(list(page.records))
            pages += 1
            records += len(page.records)
            deleted += page.deleted
            size = page.complete_list_size if page.complete_list_size is not None else size
            seen = len(page.records) + page.deleted
            position = page.cursor + seen if page.cursor is not None else position + seen
            token = page.resumption_token
            if token is not None and token == used_token:
                raise HarvestError(f"{self.base_url}: server repeated resumption token {token!r}")
            checkpoint = dict(saved)
            if token:
                checkpoint["in_progress"] = {
                    "window": window.to_json(),
                    "resumption_token": token,
                    "position": position,
                    "complete_list_size": size,
                }
            else:
                checkpoint["in_progress"] = None
                # A backfill of an older window must not pull the incremental start back.
                previous = saved.get("last_until")
                checkpoint["last_until"] = max(window.until.isoformat(), previous or "")
            state.save(key, checkpoint)
            if progress is not None:
                progress(HarvestProgress(records=records, pages=pages, position=position,
                                         complete_list_size=size))
            if not token:
                break
        return HarvestReport(
            pages=pages,
            records=records,
            deleted=deleted,
            retries=self.http.retries - retries_before,
            resumed=resumed,
            restarted=restarts > 0,
            window=window,
            set_spec=set_spec,
            metadata_prefix=metadata_prefix,
            complete_list_size=size,
        )

    @staticmethod
    def _same_window(window: HarvestWindow, from_date: date | None, until: date | None) -> bool:
        return (from_date is None or from_date == window.from_date) and (
            until is None or until == window.until
        )

    def _new_window(
        self, last_until: str | None, from_date: date | None, until: date | None, overlap_days: int
    ) -> HarvestWindow:
        end = until or self._today()
        start = from_date
        if start is None and last_until:
            start = date.fromisoformat(last_until) - timedelta(days=overlap_days)
            start = min(start, end)
        if start is not None and start > end:
            raise HarvestError(f"harvest window starts ({start}) after it ends ({end})")
        return HarvestWindow(from_date=start, until=end)

    @staticmethod
    def _first_params(
        window: HarvestWindow, set_spec: str | None, metadata_prefix: str
    ) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        if window.from_date:
            params["from"] = window.from_date.isoformat()
        params["until"] = window.until.isoformat()
        return params


def harvest_arxiv(
    sink: Sink,
    state: HarvestState,
    *,
    set_spec: str | None = None,
    from_date: date | None = None,
    until: date | None = None,
    metadata_prefix: str = "arXiv",
    overlap_days: int = 1,
    base_url: str = DEFAULT_OAI_URL,
    progress: Callable[[HarvestProgress], object] | None = None,
    **client_options: Any,
) -> HarvestReport:
    """One harvest run with a fresh `OaiHarvester` (options go to `PoliteClient`)."""
    with OaiHarvester(base_url=base_url, **client_options) as harvester:
        return harvester.harvest(
            sink,
            state,
            set_spec=set_spec,
            from_date=from_date,
            until=until,
            metadata_prefix=metadata_prefix,
            overlap_days=overlap_days,
            progress=progress,
        )


# --- the Atom search API -----------------------------------------------------------


def search_arxiv(
    query: str,
    *,
    start: int = 0,
    max_results: int = 50,
    sort_by: str = "relevance",
    sort_order: str = "descending",
    base_url: str = DEFAULT_API_URL,
    http: PoliteClient | None = None,
) -> AtomFeed:
    """One page of arXiv API results for `query` (its `search_query` syntax, e.g. 'cat:cs.CV').

    Pass a shared `PoliteClient` to page through results at the polite pace.
    """
    params = {
        "search_query": query,
        "start": str(start),
        "max_results": str(max_results),
        "sortBy": sort_by,
        "sortOrder": sort_order,
    }
    if http is not None:
        return http.get(base_url, params, parse=parse_atom_feed)
    with PoliteClient() as client:
        return client.get(base_url, params, parse=parse_atom_feed)
