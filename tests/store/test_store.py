"""The store: dedupe and merge rules, one transaction per batch, migrations, reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import SQLAlchemyError

from paperfeed.errors import SourceError, StoreError
from paperfeed.records import PaperRecord, Provenance, parse_author
from paperfeed.store import Store
from paperfeed.store.browse import Browse


def rec(title: str, *, line: int = 1, file: str = "f.txt", **kw: object) -> PaperRecord:
    authors = kw.pop("authors", ("Ann Smith",))
    return PaperRecord(
        title=title,
        abstract=str(kw.pop("abstract", "An abstract about " + title)),
        authors=tuple(parse_author(a) for a in authors),  # type: ignore[attr-defined]
        provenance=(Provenance("test", file, line),),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store(data_dir) as s:
        yield s


def _head() -> str:
    """The newest migration: the store always upgrades itself to it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from paperfeed.store.store import _MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.mark.sqlite_only
def test_store_is_a_sqlite_file_in_wal_mode(store: Store, data_dir: Path) -> None:
    store.add_papers([rec("One")])
    db = data_dir / "paperfeed.sqlite"
    assert db.is_file()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == _head()


def test_same_arxiv_id_any_version_is_one_paper_and_newest_version_wins(store: Store) -> None:
    v1 = rec("Old title", arxiv_id="2501.00001", arxiv_version=1, line=1)
    v3 = rec("New title", arxiv_id="2501.00001", arxiv_version=3, line=2)
    v2 = rec("Middle title", arxiv_id="2501.00001", arxiv_version=2, line=3)
    report = store.add_papers([v1, v3, v2])
    assert (report.ingested, report.merged) == (1, 2)
    assert store.count() == 1
    paper = store.find("arXiv:2501.00001v2")
    assert paper is not None
    assert paper.record.title == "New title"
    assert paper.record.arxiv_version == 3
    assert len(paper.record.provenance) == 3


def test_same_doi_is_one_paper(store: Store) -> None:
    store.add_papers([rec("Paper A", doi="10.1000/abc")])
    report = store.add_papers([rec("Paper A (journal version)", doi="10.1000/abc",
                                   authors=("Bob Jones",))])
    assert report.merged == 1 and store.count() == 1


def test_title_and_first_surname_merge_only_when_one_side_has_no_id(store: Store) -> None:
    store.add_papers([rec("Deep Nets!", arxiv_id="2501.00002", authors=("Ann Smith",))])
    report = store.add_papers([rec("deep nets", authors=("A. Smith", "Z"), line=9)])
    assert report.merged == 1 and store.count() == 1
    # Another surname is another paper.
    store.add_papers([rec("Deep nets", authors=("Carl Other",), line=5)])
    assert store.count() == 2


def test_different_arxiv_ids_are_never_merged(store: Store) -> None:
    # Four real quant-ph papers share the title "Quantum cryptography" and have no authors.
    records = [rec("Quantum cryptography", arxiv_id=f"quant-ph/970{i}001", authors=(), line=i)
               for i in range(4)]
    report = store.add_papers(records)
    assert report.ingested == 4 and store.count() == 4


def test_reingesting_the_same_records_changes_nothing(store: Store) -> None:
    records = [rec(f"Paper {i}", arxiv_id=f"2501.{i:05d}", line=i,
                   categories=("cs.CL", "cs.AI"), first_listed=date(2025, 3, 18))
               for i in range(50)]
    store.add_papers(records, batch_size=7)
    revision = store.revision()
    before = [p.record for p in store.get_many(list(range(1, 51)))]
    report = store.add_papers(records, batch_size=7)
    assert report.ingested == 0 and report.merged == 50 and report.changed == 0
    assert store.revision() == revision
    assert [p.record for p in store.get_many(list(range(1, 51)))] == before


def test_a_parse_error_keeps_everything_read_before_the_bad_line(store: Store) -> None:
    def records() -> Iterator[PaperRecord]:
        for i in range(25):
            yield rec(f"Paper {i}", arxiv_id=f"2502.{i:05d}", line=i)
        raise SourceError("bad line", file="f.txt", line=26)

    with pytest.raises(SourceError):
        store.add_papers(records(), batch_size=10)
    # Two whole batches, then the 5 papers read before the bad line: the guide's promise.
    assert store.count() == 25
    assert store.find("2502.00024") is not None


def test_a_failing_write_leaves_its_batch_out_whole(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    original = Store._write_children
    calls = {"n": 0}

    def fail_second(self: Store, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SQLAlchemyError("disk full")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_write_children", fail_second)
    with pytest.raises(StoreError, match="could not write a batch of 10 papers"):
        store.add_papers([rec(f"Paper {i}", arxiv_id=f"2502.{i:05d}", line=i)
                          for i in range(25)], batch_size=10)
    # The first batch committed; the second rolled back whole (papers, authors, provenance).
    assert store.count() == 10
    assert store.find("2502.00010") is None
    assert store.stats()["by_source"] == {"test": 10}


def test_merge_fills_missing_fields_and_keeps_earliest_dates(store: Store) -> None:
    store.add_papers([rec("P", arxiv_id="2503.00001", first_listed=date(2025, 3, 20))])
    store.add_papers([rec("P", arxiv_id="2503.00001", doi="10.5555/x",
                          first_listed=date(2025, 3, 18), code_urls=("https://github.com/a/b",))])
    paper = store.find("10.5555/x")
    assert paper is not None
    assert paper.record.first_listed == date(2025, 3, 18)
    assert paper.record.code_urls == ("https://github.com/a/b",)


def test_derived_title_is_replaced_by_a_real_one(store: Store) -> None:
    store.add_papers([rec("We propose a thing…", arxiv_id="2504.00001", title_derived=True)])
    store.add_papers([rec("Thing: A Method", arxiv_id="2504.00001")])
    paper = store.find("2504.00001")
    assert paper is not None and paper.record.title == "Thing: A Method"
    assert not paper.record.title_derived


def test_records_without_title_are_skipped_with_a_reason(store: Store) -> None:
    report = store.add_papers([rec("  "), rec("Fine")])
    assert report.ingested == 1 and report.skipped["no title"] == 1


def test_iter_summaries_follows_revisions(store: Store) -> None:
    store.add_papers([rec("A", arxiv_id="2505.00001")])
    first = store.revision()
    store.add_papers([rec("B", arxiv_id="2505.00002")])
    changed = list(store.iter_summaries(since_revision=first))
    assert [s.title for s in changed] == ["B"]
    assert len(list(store.iter_summaries())) == 2


def test_find_by_id_arxiv_doi_and_source_id(store: Store) -> None:
    store.add_papers([rec("A", arxiv_id="2506.00001", doi="10.9999/q",
                          source_ids=(("seed", "000_x#3"),))])
    ids = {store.find(r).id for r in ("1", "2506.00001v4", "https://doi.org/10.9999/Q",
                                      "seed:000_x#3")}  # type: ignore[union-attr]
    assert ids == {1}
    assert store.find("2506.99999") is None


def test_harvest_state_round_trips(store: Store) -> None:
    assert store.load("oai:cs") is None
    store.save("oai:cs", {"until": "2025-01-01", "token": None})
    store.save("oai:cs", {"until": "2025-01-02", "token": "abc"})
    assert store.load("oai:cs") == {"until": "2025-01-02", "token": "abc"}


def test_store_reopens_and_keeps_papers(data_dir: Path) -> None:
    with Store(data_dir) as s:
        s.add_papers([rec("Kept")])
    with Store(data_dir) as s:
        assert s.count() == 1


# fresh_database is per test but hands out a new database per call: nothing carries over.
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["2507.00001", "2507.00002", None]),
                          st.sampled_from([None, 1, 2, 3]),
                          st.sampled_from(["10.1111/a", "10.1111/b", None]),
                          st.sampled_from(["T one", "T two", "t ONE"])), max_size=12))
def test_any_mix_of_ids_stores_each_arxiv_id_and_doi_once(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Callable[[], str | None],
    rows: list[tuple[str | None, int | None, str | None, str]],
) -> None:
    # Lines are 1-based: line 0 is "no line", which never identifies a record.
    records = [rec(t, arxiv_id=a, arxiv_version=v, doi=d, line=i + 1)
               for i, (a, v, d, t) in enumerate(rows)]
    with Store(tmp_path_factory.mktemp("h"), url=fresh_database()) as s:
        s.add_papers(records, batch_size=5)
        n = s.count()
        s.add_papers(records, batch_size=3)
        assert s.count() == n  # idempotent
        papers = s.get_many(list(range(1, n + 1)))
    arxiv = [p.record.arxiv_id for p in papers if p.record.arxiv_id]
    dois = [p.record.doi for p in papers if p.record.doi]
    assert len(arxiv) == len(set(arxiv)) and len(dois) == len(set(dois))
    assert set(arxiv) == {a for a, *_ in rows if a}


@pytest.mark.parametrize("ref", ["²", "١٢٣", "0" * 40, "", "   ", "scheme:", ":", "10.", "arXiv:"])
def test_find_never_raises_on_odd_references(store: Store, ref: str) -> None:
    store.add_papers([rec("One")])
    assert store.find(ref) is None


def test_free_text_among_the_categories_is_stored_on_both_databases(store: Store) -> None:
    # Real arXiv daily records carry these (15 in the 75k corpus); PostgreSQL refuses a
    # value wider than the category column, so its first 64 characters are indexed.
    long = "Information storage and retrieval of data, Natural language\n  processing"
    store.add_papers([PaperRecord(title="Free text", abstract="x",
                                  categories=(long, long[:64] + " else", "cs.IR"))])
    stored = store.find("1")
    assert stored is not None and stored.record.categories == (long, long[:64] + " else",
                                                               "cs.IR")
    assert dict(Browse(store).categories())[long[:64]] == 1  # two values, one row
