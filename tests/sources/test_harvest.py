"""The arXiv harvester against a real HTTP stand-in on loopback, with a fake clock."""

from __future__ import annotations

import email.utils
import itertools
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.errors import HarvestError
from paperfeed.records import PaperRecord
from paperfeed.sources.harvest import (
    HarvestProgress,
    MemoryHarvestState,
    OaiHarvester,
    PoliteClient,
    parse_retry_after,
    search_arxiv,
)

try:
    from .arxiv_standin import (
        ArxivStandin,
        FakePaper,
        OaiRepository,
        Reply,
        list_records_xml,
        oai_error_xml,
    )
except ImportError:  # tests/ run without __init__.py files (pytest's rootdir-less import mode)
    from arxiv_standin import (  # type: ignore[no-redef]
        ArxivStandin,
        FakePaper,
        OaiRepository,
        Reply,
        list_records_xml,
        oai_error_xml,
    )


class FakeTime:
    """A monotonic clock that only moves when the harvester sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class Sink:
    """Collects batches; optionally fails on one call to simulate a crash mid-list."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.batches: list[list[PaperRecord]] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    def __call__(self, batch: list[PaperRecord]) -> None:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("store crashed")
        self.batches.append(batch)

    @property
    def ids(self) -> list[str | None]:
        return [r.arxiv_id for batch in self.batches for r in batch]


def papers(count: int, *, start: date = date(2024, 1, 1), set_spec: str = "cs") -> list[FakePaper]:
    return [
        FakePaper(arxiv_id=f"2401.{i:05d}", title=f"Paper number {i}",
                  datestamp=start + timedelta(days=i), set_spec=set_spec)
        for i in range(1, count + 1)
    ]


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def standin(fake_time: FakeTime) -> Iterator[ArxivStandin]:
    with ArxivStandin(clock=fake_time.clock) as server:
        yield server


def harvester(server: ArxivStandin, fake_time: FakeTime, **options: Any) -> OaiHarvester:
    settings: dict[str, Any] = {"sleep": fake_time.sleep, "clock": fake_time.clock,
                                   "timeout": 10.0}
    settings.update(options)
    return OaiHarvester(base_url=server.url, **settings)


def gaps(server: ArxivStandin) -> list[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


UNTIL = date(2024, 2, 1)


def test_pages_follow_resumption_tokens_and_checkpoint(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    corpus = papers(7)
    standin.handler = OaiRepository(corpus, page_size=3)
    state, sink = MemoryHarvestState(), Sink()
    seen: list[HarvestProgress] = []
    with harvester(standin, fake_time) as h:
        report = h.harvest(sink, state, set_spec="cs", until=UNTIL, progress=seen.append)

    assert sink.ids == [p.arxiv_id for p in corpus]
    assert [len(b) for b in sink.batches] == [3, 3, 1]
    assert (report.pages, report.records, report.retries) == (3, 7, 0)
    assert not report.resumed and not report.restarted
    first, *rest = standin.requests
    assert first.params == {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs",
                            "until": UNTIL.isoformat()}
    assert all(set(r.params) == {"verb", "resumptionToken"} for r in rest)
    assert "paperfeed/" in first.headers["user-agent"]
    assert [p.position for p in seen] == [3, 6, 7]
    assert seen[-1].complete_list_size == 7
    saved = state.load(h.state_key("cs", "arXiv"))
    assert saved is not None
    assert saved["in_progress"] is None and saved["last_until"] == UNTIL.isoformat()


def test_every_request_waits_the_min_interval(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.handler = OaiRepository(papers(9), page_size=2)
    # A retry in the middle must not shorten the spacing either.
    standin.script(Reply(status=500, body=b"oops"))
    with harvester(standin, fake_time, backoff=0.5) as h:
        report = h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert report.retries == 1 and report.pages == 5
    assert len(standin.requests) == 6
    assert all(gap >= 3.0 for gap in gaps(standin)), gaps(standin)


def test_503_retry_after_seconds_is_honoured(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.handler = OaiRepository(papers(2), page_size=5)
    standin.script(Reply(status=503, headers={"Retry-After": "7"}, body=b"busy"))
    sink = Sink()
    with harvester(standin, fake_time) as h:
        report = h.harvest(sink, MemoryHarvestState(), set_spec="cs", until=UNTIL)
    assert len(standin.requests) == 2
    assert standin.requests[0].params == standin.requests[1].params
    assert max(fake_time.sleeps) >= 7
    assert gaps(standin)[0] >= 7
    assert report.retries == 1 and sink.ids == ["2401.00001", "2401.00002"]


def test_503_retry_after_http_date(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.handler = OaiRepository(papers(1))
    wall = 1_700_000_000.0
    standin.script(Reply(status=503, headers={"Retry-After": email.utils.formatdate(
        wall + 20, usegmt=True)}))
    with harvester(standin, fake_time, wallclock=lambda: wall) as h:
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert gaps(standin)[0] >= 20


def test_retry_after_beyond_the_max_wait_gives_up(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    standin.script(Reply(status=503, headers={"Retry-After": "3600"}))
    with harvester(standin, fake_time, max_retry_after=600) as h, pytest.raises(
        HarvestError, match="3600"
    ):
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert len(standin.requests) == 1


def test_persistent_503_backs_off_then_fails(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.handler = lambda request: Reply(status=503, body=b"down")
    with harvester(standin, fake_time, max_attempts=4, backoff=2.0) as h, pytest.raises(
        HarvestError, match="4 attempts"
    ) as info:
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert standin.url in str(info.value)
    assert len(standin.requests) == 4
    spacing = gaps(standin)
    assert all(later > earlier for earlier, later in itertools.pairwise(spacing))


def test_truncated_xml_is_retried(standin: ArxivStandin, fake_time: FakeTime) -> None:
    corpus = papers(3)
    whole = list_records_xml(corpus, size=3)
    standin.script(Reply(body=whole[: len(whole) // 2]), Reply(body=whole))
    sink = Sink()
    with harvester(standin, fake_time) as h:
        report = h.harvest(sink, MemoryHarvestState(), until=UNTIL)
    assert len(standin.requests) == 2
    assert standin.requests[0].params == standin.requests[1].params
    assert sink.ids == [p.arxiv_id for p in corpus]
    assert report.retries == 1


def test_body_cut_short_in_transfer_is_retried(standin: ArxivStandin, fake_time: FakeTime
                                               ) -> None:
    corpus = papers(2)
    whole = list_records_xml(corpus)
    standin.script(Reply(body=whole, cut_at=len(whole) // 3), Reply(body=whole))
    sink = Sink()
    with harvester(standin, fake_time) as h:
        h.harvest(sink, MemoryHarvestState(), until=UNTIL)
    assert len(standin.requests) == 2
    assert sink.ids == [p.arxiv_id for p in corpus]


def test_always_truncated_raises_naming_the_url(standin: ArxivStandin, fake_time: FakeTime
                                                ) -> None:
    whole = list_records_xml(papers(3))
    standin.handler = lambda request: Reply(body=whole[:-40])
    sink = Sink()
    with harvester(standin, fake_time, max_attempts=3) as h, pytest.raises(HarvestError) as info:
        h.harvest(sink, MemoryHarvestState(), until=UNTIL)
    assert standin.url in str(info.value)
    assert "unreadable" in str(info.value)
    assert len(standin.requests) == 3
    assert sink.calls == 0


def test_crash_then_expired_token_restarts_the_window(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    corpus = papers(7)
    repo = OaiRepository(corpus, page_size=3)
    standin.handler = repo
    state = MemoryHarvestState()
    crashing = Sink(fail_on_call=2)
    with harvester(standin, fake_time) as h:
        with pytest.raises(RuntimeError, match="store crashed"):
            h.harvest(crashing, state, set_spec="cs", until=UNTIL)
        saved = state.load(h.state_key("cs", "arXiv"))
        assert saved is not None
        assert saved["in_progress"]["resumption_token"] == repo.tokens_issued[0]
        assert saved.get("last_until") is None

        repo.expire_tokens()
        before = len(standin.requests)
        second = Sink()
        report = h.harvest(second, state, set_spec="cs", until=UNTIL)

    retry_requests = standin.requests[before:]
    assert retry_requests[0].params["resumptionToken"] == repo.tokens_issued[0]
    assert retry_requests[1].params == standin.requests[0].params  # window from its start
    assert report.resumed and report.restarted
    delivered = crashing.ids + second.ids
    assert set(delivered) == {p.arxiv_id for p in corpus}
    # Only the page committed before the crash comes again.
    duplicates = {i for i in delivered if delivered.count(i) > 1}
    assert duplicates == set(crashing.ids)
    assert len(delivered) == len(corpus) + len(crashing.ids)
    final = state.load(h.state_key("cs", "arXiv"))
    assert final is not None and final["in_progress"] is None


def test_crash_then_valid_token_resumes_without_duplicates(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    corpus = papers(8)
    standin.handler = OaiRepository(corpus, page_size=2)
    state = MemoryHarvestState()
    crashing, second = Sink(fail_on_call=3), Sink()
    with harvester(standin, fake_time) as h:
        with pytest.raises(RuntimeError):
            h.harvest(crashing, state, until=UNTIL)
        report = h.harvest(second, state, until=UNTIL)
    assert report.resumed and not report.restarted
    assert crashing.ids + second.ids == [p.arxiv_id for p in corpus]


def test_incremental_run_starts_at_previous_until(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    corpus = papers(20)  # datestamps 2024-01-02 .. 2024-01-21
    standin.handler = OaiRepository(corpus, page_size=50)
    state = MemoryHarvestState()
    first_until, second_until = date(2024, 1, 10), date(2024, 1, 15)
    with harvester(standin, fake_time) as h:
        first = h.harvest(Sink(), state, until=first_until)
        second_sink = Sink()
        second = h.harvest(second_sink, state, until=second_until, overlap_days=0)
        third = h.harvest(Sink(), state, until=date(2024, 1, 30))  # default one-day overlap
    assert first.window.from_date is None
    assert "from" not in standin.requests[0].params
    assert standin.requests[1].params["from"] == first_until.isoformat()
    assert second.window.from_date == first_until
    stamps = {p.arxiv_id: p.datestamp for p in corpus}
    assert second_sink.ids
    assert all(first_until <= stamps[i] <= second_until for i in second_sink.ids if i)
    assert standin.requests[2].params["from"] == (second_until - timedelta(days=1)).isoformat()
    assert third.window.from_date == second_until - timedelta(days=1)


def test_backfill_does_not_move_the_incremental_start_back(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    standin.handler = OaiRepository(papers(20), page_size=50)
    state = MemoryHarvestState()
    with harvester(standin, fake_time) as h:
        h.harvest(Sink(), state, until=date(2024, 1, 15))
        h.harvest(Sink(), state, from_date=date(2024, 1, 2), until=date(2024, 1, 5))
        nxt = h.harvest(Sink(), state, until=date(2024, 1, 20), overlap_days=0)
    assert nxt.window.from_date == date(2024, 1, 15)


def test_empty_window_completes(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.script(Reply(body=oai_error_xml("noRecordsMatch", "no records")))
    state, sink = MemoryHarvestState(), Sink()
    with harvester(standin, fake_time) as h:
        report = h.harvest(sink, state, until=UNTIL)
        saved = state.load(h.state_key(None, "arXiv"))
    assert report.records == 0 and sink.calls == 0
    assert saved is not None and saved["last_until"] == UNTIL.isoformat()


def test_deleted_records_are_counted_not_delivered(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    corpus = papers(3)
    gone = FakePaper("2401.09999", "gone", date(2024, 1, 3), deleted=True)
    standin.script(Reply(body=list_records_xml([corpus[0], gone, *corpus[1:]])))
    sink = Sink()
    with harvester(standin, fake_time) as h:
        report = h.harvest(sink, MemoryHarvestState(), until=UNTIL)
    assert report.deleted == 1 and report.records == 3
    assert "2401.09999" not in sink.ids


def test_oai_error_raises(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.script(Reply(body=oai_error_xml("badArgument", "illegal set")))
    with harvester(standin, fake_time) as h, pytest.raises(HarvestError, match="badArgument"):
        h.harvest(Sink(), MemoryHarvestState(), set_spec="nonsense", until=UNTIL)


def test_client_error_is_not_retried(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.script(Reply(status=404, body=b"no such endpoint"))
    with harvester(standin, fake_time) as h, pytest.raises(HarvestError, match="404"):
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert len(standin.requests) == 1


def test_connection_refused_is_retried_then_fails(fake_time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/oai"
    h = OaiHarvester(base_url=url, sleep=fake_time.sleep, clock=fake_time.clock,
                     max_attempts=3, backoff=4.0)
    with h, pytest.raises(HarvestError, match="3 attempts") as info:
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert h.http.retries == 2
    assert fake_time.sleeps[0] >= 4.0 and fake_time.sleeps[1] >= 8.0


def test_contact_goes_into_the_user_agent(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.handler = OaiRepository(papers(1))
    with harvester(standin, fake_time, contact="feeds@example.org") as h:
        h.harvest(Sink(), MemoryHarvestState(), until=UNTIL)
    agent = standin.requests[0].headers["user-agent"]
    assert agent.startswith("paperfeed/") and "mailto:feeds@example.org" in agent


def test_unreadable_checkpoint_is_reported(standin: ArxivStandin, fake_time: FakeTime) -> None:
    state = MemoryHarvestState()
    with harvester(standin, fake_time) as h:
        state.save(h.state_key(None, "arXiv"), {"in_progress": {"window": {"from": "yesterday"}}})
        with pytest.raises(HarvestError, match="checkpoint"):
            h.harvest(Sink(), state, until=UNTIL)
    assert standin.requests == []


def test_window_that_ends_before_it_starts_is_refused(
    standin: ArxivStandin, fake_time: FakeTime
) -> None:
    with harvester(standin, fake_time) as h, pytest.raises(HarvestError, match="after it ends"):
        h.harvest(Sink(), MemoryHarvestState(), from_date=date(2024, 3, 1), until=UNTIL)
    assert standin.requests == []


ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"
      xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: search_query=cat:cs.CV</title>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>10</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2503.01234v1</id>
    <updated>2025-03-03T10:00:00Z</updated>
    <published>2025-03-03T10:00:00Z</published>
    <title>A Vision Paper</title>
    <summary>We see.</summary>
    <author><name>Ada Lovelace</name></author>
    <arxiv:primary_category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>
"""


def test_search_arxiv_is_polite_too(standin: ArxivStandin, fake_time: FakeTime) -> None:
    standin.script(Reply(status=503, headers={"Retry-After": "5"}), Reply(body=ATOM))
    with PoliteClient(sleep=fake_time.sleep, clock=fake_time.clock) as client:
        feed = search_arxiv("cat:cs.CV", max_results=10, base_url=standin.base + "/api/query",
                            http=client)
    assert [r.arxiv_id for r in feed.records] == ["2503.01234"]
    assert feed.total_results == 1
    assert standin.requests[-1].params["search_query"] == "cat:cs.CV"
    assert standin.requests[-1].params["max_results"] == "10"
    assert gaps(standin)[0] >= 5


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now=now) == 90.0
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@given(st.text())
def test_parse_retry_after_never_crashes(value: str) -> None:
    result = parse_retry_after(value, now=0.0)
    assert result is None or result >= 0.0
