"""Every text a record can carry is stored on both databases, whatever its length.

SQLite never enforced a column's width, PostgreSQL does: these run on both (the store
suite's `database` fixture), with values far wider than any column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperfeed.records import Author, PaperRecord, Provenance
from paperfeed.store import Store
from paperfeed.store import models as m
from paperfeed.store.bounded import BoundedString, BoundedText, clip
from paperfeed.store.browse import Browse
from paperfeed.store.store import fit_record

# Any character a UTF-8 file or form can hold but NUL (which PostgreSQL stores as U+FFFD,
# tested in test_postgres), many of them four bytes wide.
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
SHORT = st.text(CHARS, max_size=12)
# A short piece repeated: values up to 3,000 characters, wider than every column.
HUGE = st.tuples(st.text(CHARS, min_size=1, max_size=6), st.integers(1, 3000)).map(
    lambda t: (t[0] * t[1])[:3000])
ODD = st.one_of(SHORT, HUGE)
TITLE = st.one_of(st.text(CHARS, min_size=1, max_size=30), HUGE).filter(
    lambda t: bool(t.strip()) and len(t) <= 2000)


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store(data_dir) as s:
        yield s


@st.composite
def records(draw: st.DrawFn, line: int) -> PaperRecord:
    maybe = st.one_of(st.none(), ODD)
    return PaperRecord(
        title=draw(TITLE),
        abstract=draw(ODD),
        authors=tuple(Author(name=n, given=g, family=f) for n, g, f in draw(
            st.lists(st.tuples(ODD, ODD, ODD), max_size=3))),
        arxiv_id=draw(st.one_of(st.none(), st.just("2507.00001"), ODD.filter(bool))),
        doi=draw(st.one_of(st.none(), st.just("10.1111/a"), ODD.filter(bool))),
        source_ids=tuple(draw(st.lists(st.tuples(ODD, ODD), max_size=2))),
        categories=tuple(draw(st.lists(ODD, max_size=3))),
        abs_url=draw(maybe), pdf_url=draw(maybe),
        code_urls=tuple(draw(st.lists(ODD, max_size=2))),
        comment=draw(maybe), journal_ref=draw(maybe),
        # Always a file: "the same file again" is recognised by its positions (file and
        # line); a record with no file has none, and a later merge may change the title
        # key it was first matched by (found by this test: three records titled "0").
        provenance=(Provenance(source=draw(st.one_of(st.just("jsonl"), ODD.filter(bool))),
                               file=draw(ODD.filter(bool)), line=line,
                               record_id=draw(maybe)),),
    )


@st.composite
def batches(draw: st.DrawFn) -> list[PaperRecord]:
    # Lines are 1-based and distinct: line 0 is "no line", which identifies nothing.
    return [draw(records(line=i + 1)) for i in range(draw(st.integers(1, 6)))]


# fresh_database hands out a new database per call: nothing carries over between examples.
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(batch=batches())
def test_records_with_huge_and_odd_text_in_every_field_are_stored_and_read_back(
        tmp_path_factory: pytest.TempPathFactory, fresh_database: Callable[[], str | None],
        batch: list[PaperRecord]) -> None:
    with Store(tmp_path_factory.mktemp("w"), url=fresh_database()) as store:
        report = store.add_papers(batch, batch_size=4)
        assert not report.skipped
        n = store.count()
        assert 1 <= n <= len(batch)
        store.add_papers(batch, batch_size=3)  # the same file again: matched, nothing new
        assert store.count() == n
        papers = store.get_many(list(range(1, n + 1)))
        categories = dict(Browse(store).categories())
    assert len(papers) == n
    stored_titles = {p.record.title for p in papers}
    assert stored_titles <= {r.title for r in batch}
    for paper in papers:
        record = paper.record
        # Whole where the column is text; identifiers only when they fit their column.
        assert record.arxiv_id is None or len(record.arxiv_id) <= 64
        assert record.doi is None or len(record.doi) <= 255
        assert record.comment is None or record.comment in {r.comment for r in batch}
        assert set(record.categories) <= {c for r in batch for c in r.categories}
    assert all(len(c) <= 64 for c in categories)
    # A record whose ids fit keeps them.
    for record in batch:
        if record.arxiv_id and len(record.arxiv_id) <= 64:
            assert any(p.record.arxiv_id == record.arxiv_id for p in papers)


def test_an_overlong_doi_or_arxiv_id_is_left_out_and_the_paper_kept(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    doi = "10.1234/" + "x" * 300
    record = PaperRecord(title="Long ids", arxiv_id="a" * 70, arxiv_version=2, doi=doi,
                         provenance=(Provenance("bibtex", "refs.bib", 7),))
    store.add_papers([record, PaperRecord(title="Short ids", doi="10.1234/ok")])
    assert "refs.bib:7: arxiv_id and doi too long for the store, left out" in caplog.text
    kept = store.find("1")
    assert kept is not None and kept.record.title == "Long ids"
    assert (kept.record.arxiv_id, kept.record.arxiv_version, kept.record.doi) == (
        None, None, None)
    assert store.find("10.1234/ok") is not None


def test_a_long_value_is_looked_up_as_it_was_written(store: Store) -> None:
    # An author key and a source id wider than their columns: written clipped, and a
    # look-up with the whole value finds the row (the bound value is clipped alike).
    name = "Ann " + "Very" * 100
    source_id = "k" * 900
    store.add_papers([PaperRecord(title="Wide", authors=(Author(name, "Ann", "Very" * 100),),
                                  source_ids=(("bibtex", source_id),))])
    with Session(store.engine) as session:
        keys = session.scalars(select(m.PaperAuthor.name_key)).all()
        found = session.scalars(select(m.SourceId.paper_id).where(
            m.SourceId.value == source_id)).all()
    assert [len(k) for k in keys] == [255] and found == [1]


@pytest.mark.parametrize(("value", "length", "max_bytes", "expected"), [
    ("abc", 2, None, "ab"),
    ("abc", 5, None, "abc"),
    ("é" * 10, None, 5, "éé"),  # two bytes each: never half a character
    ("😀" * 10, 8, 10, "😀😀"),
    ("", 3, 3, ""),
])
def test_clip_counts_characters_and_bytes(value: str, length: int | None,
                                          max_bytes: int | None, expected: str) -> None:
    assert clip(value, length, max_bytes) == expected


def test_every_width_limited_column_is_bounded() -> None:
    """A new `String(n)` column would be refused by PostgreSQL past n: it must be a
    BoundedString (or a plain, unbounded Text)."""
    import paperfeed.digest
    import paperfeed.feeds
    import paperfeed.store.cards  # noqa: F401 - registers their models on Base

    loose = [f"{t.name}.{c.name}" for t in m.Base.metadata.sorted_tables for c in t.columns
             if getattr(c.type, "length", None) is not None
             and not isinstance(c.type, BoundedString | BoundedText)]
    assert loose == []


def test_fit_record_leaves_a_fitting_record_alone() -> None:
    record = PaperRecord(title="t", arxiv_id="2507.00001", doi="10.1/x")
    assert fit_record(record) is record
