"""Who may change a shared paper: a user's upload never does; every field's origin is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperfeed.records import PaperRecord, Provenance, parse_author
from paperfeed.store import Store
from paperfeed.store.merge import FIELDS


def rec(title: str, *, source: str = "arxiv-daily", line: int = 1, **kw: object) -> PaperRecord:
    authors = kw.pop("authors", ("Ann Smith",))
    return PaperRecord(
        title=title, abstract=str(kw.pop("abstract", "About " + title)),
        authors=tuple(parse_author(a) for a in authors),  # type: ignore[attr-defined]
        provenance=(Provenance(source, f"{source}.txt", line),), **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    with Store(data_dir) as s:
        yield s


def test_a_users_record_matching_a_stored_paper_only_links_to_it(store: Store) -> None:
    store.add_papers([rec("Real title", arxiv_id="2503.11742", arxiv_version=1,
                          abstract="The real abstract.")])
    revision = store.revision()
    hostile = rec("Defaced", source="bibtex", arxiv_id="2503.11742", arxiv_version=9,
                  abstract="Pwned.", authors=("Mallory Hacker",), doi="10.1/evil",
                  categories=("cs.CR",), code_urls=("https://evil.example/x",),
                  source_ids=(("bibtex", "evil"),))
    report = store.add_papers([hostile], origin="user:7")
    assert (report.linked, report.ingested, report.merged, report.changed) == (1, 0, 0, 0)
    paper = store.find("2503.11742")
    assert paper is not None
    r = paper.record
    assert (r.title, r.abstract, r.arxiv_version, r.doi) == ("Real title", "The real abstract.",
                                                           1, None)
    assert [a.name for a in r.authors] == ["Ann Smith"] and r.code_urls == ()
    assert store.revision() == revision  # nothing an index would need to redo
    assert store.find("bibtex:evil") is None  # no lookup key added to a shared paper either
    # The claim is remembered as provenance, with its origin, and the upload finds its paper.
    assert store.lookup([hostile]) == [paper.id]
    assert ("bibtex", "user:7") in store.provenance_origins(paper.id)


def test_every_field_records_who_set_it(store: Store) -> None:
    store.add_papers([rec("T", arxiv_id="2503.00001", arxiv_version=1)], origin="operator")
    store.add_papers([rec("T2", source="oai", arxiv_id="2503.00001", arxiv_version=2,
                          abstract="v2 abstract", journal_ref="J. 1")], origin="harvest")
    paper = store.find("2503.00001")
    assert paper is not None
    origins = store.field_origins(paper.id)
    assert origins["title"][:2] == ("oai", "harvest")
    assert origins["abstract"][:2] == ("oai", "harvest")
    assert origins["journal_ref"][:2] == ("oai", "harvest")
    assert origins["arxiv_id"][:2] == ("arxiv-daily", "operator")
    assert set(origins) <= set(FIELDS)


def test_an_unknown_paper_from_a_user_is_stored_and_then_yields_to_a_trusted_source(
        store: Store) -> None:
    claim = rec("A claimed title", source="bibtex", arxiv_id="2612.00001", arxiv_version=9,
                abstract="User text.", doi="10.5/claim", journal_ref="Fake J.")
    assert store.add_papers([claim], origin="user:3").ingested == 1
    paper = store.find("2612.00001")
    assert paper is not None and paper.record.title == "A claimed title"
    assert {o for _, o, _ in store.field_origins(paper.id).values()} == {"user:3"}
    # Another user's different claim changes nothing.
    store.add_papers([rec("Second claim", source="bibtex", arxiv_id="2612.00001")],
                     origin="user:4")
    assert store.find("2612.00001").record.title == "A claimed title"  # type: ignore[union-attr]
    # The harvest brings version 2: its fields replace every user-set one it has, even
    # the higher version number the user claimed; what it lacks stays, still the user's.
    store.add_papers([rec("The real title", source="oai", arxiv_id="2612.00001",
                          arxiv_version=2, abstract="Real abstract.")], origin="harvest")
    r = store.find("2612.00001").record  # type: ignore[union-attr]
    assert (r.title, r.abstract, r.arxiv_version) == ("The real title", "Real abstract.", 2)
    assert (r.doi, r.journal_ref) == ("10.5/claim", "Fake J.")
    origins = store.field_origins(store.find("2612.00001").id)  # type: ignore[union-attr]
    assert origins["title"][1] == "harvest" and origins["journal_ref"][1] == "user:3"


def test_two_records_of_one_upload_merge_with_each_other(store: Store) -> None:
    report = store.add_papers([rec("New paper", source="bibtex", doi="10.9/x", line=1),
                               rec("New paper", source="bibtex", doi="10.9/x", line=2,
                                   journal_ref="Conf 2025")], origin="user:1")
    assert (report.ingested, report.merged) == (1, 1)
    assert store.count() == 1


def test_one_title_for_thousands_of_distinct_ids_stores_each_once(store: Store) -> None:
    # The store used to compare such records pairwise (quadratic): a 1 MB file timed out.
    records = [rec("a", arxiv_id=f"2501.{i:05d}", line=i) for i in range(1, 3001)]
    report = store.add_papers(records, batch_size=1000)
    assert (report.ingested, report.merged) == (3000, 0) and store.count() == 3000
    # Title matching still joins what may be joined: no id to a stored one, a DOI to an
    # arXiv-only paper, but never two arXiv ids.
    assert store.add_papers([rec("a", doi="10.1/x")]).merged == 1
    assert store.add_papers([rec("b", arxiv_id="2502.00001")]).ingested == 1
    assert store.add_papers([rec("b")]).merged == 1
    assert store.count() == 3001
