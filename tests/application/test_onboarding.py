"""Onboarding: ticked papers, pasted arXiv ids, and a publication list imported end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.accounts import Accounts
from paperfeed.application.onboarding import (
    UploadError,
    add_arxiv_ids,
    add_papers,
    import_papers,
    own_papers,
    read_publication_list,
)
from paperfeed.application.progress import QuietProgress
from paperfeed.catalog import Catalog
from paperfeed.sources.limits import UPLOAD_LIMITS
from paperfeed.store.personal import Personal
from tests.application.conftest import Recorder, paper

BIBTEX = """@article{mine1, title={Lidar odometry with {$\\alpha$}-filters},
  author={Doe, Jane}, year={2024}, abstract={Lidar odometry outdoors.}}
@article{mine2, title={Lidar localisation}, author={Doe, Jane}, year={2024},
  abstract={Localisation from lidar scans.}}
"""


def _user(catalog: Catalog) -> int:
    return Accounts(catalog.store).sign_up("jane@example.org", "long enough password").id


def test_ticked_papers_and_pasted_arxiv_ids_join_the_profile(catalog: Catalog) -> None:
    user = _user(catalog)
    first = catalog.store.find("2503.00001")
    assert first is not None
    assert add_papers(catalog.store, user, [first.id]) == 1
    added = add_arxiv_ids(catalog.store, user, "see arXiv:2503.00002v3 and 2503.00001, "
                                               "also hep-th/9901001")
    assert (added.added, added.missing) == (1, ["hep-th/9901001"])
    assert added.message() == ("1 papers added to your profile; not in this store: "
                               "hep-th/9901001 (harvest or ingest them first, or paste their "
                               "abstracts)")
    second = catalog.store.find("2503.00002")
    assert second is not None and sorted(own_papers(catalog.store, user)) == sorted(
        [first.id, second.id])


def test_an_imported_list_is_stored_searchable_carded_and_in_the_profile(
        catalog: Catalog, tmp_path: Path, recorder: Recorder) -> None:
    user = _user(catalog)
    upload = tmp_path / "upload-0001"
    upload.write_text(BIBTEX, encoding="utf-8")
    records = read_publication_list(upload, UPLOAD_LIMITS, name="jane.bib")
    records.append(paper(3))  # one paper the store has already
    outcome = import_papers(catalog, user, records, name="jane.bib", progress=recorder)
    assert (outcome.read, outcome.new, outcome.known, outcome.added) == (3, 2, 1, 3)
    assert outcome.message() == ("read 3 papers from jane.bib: 2 new to the store, 1 already "
                                 "in it; 3 added to your profile")
    assert recorder.kinds[:2] == ["index", "cards"]
    assert catalog.pending() == 0 and catalog.cards_pending() == 0
    assert sorted(own_papers(catalog.store, user)) == sorted(outcome.paper_ids)
    top = catalog.search("lidar odometry", k=1)[0].paper
    assert top.id in outcome.paper_ids
    # Stored as the user's claim: the uploaded title is kept as written, not rewritten.
    assert "Lidar odometry" in top.record.title
    # Running it again (a job cut off by a restart) adds nothing twice.
    again = import_papers(catalog, user, records, name="jane.bib", progress=QuietProgress())
    assert (again.new, again.added) == (0, 0)


def test_an_import_to_the_library_keeps_earlier_tags(catalog: Catalog, tmp_path: Path) -> None:
    user = _user(catalog)
    stored = catalog.store.find("2503.00005")
    assert stored is not None
    Personal(catalog.store).save(user, stored.id, ["old"])
    outcome = import_papers(catalog, user, [paper(5), paper(200)], target="library",
                            tags=["new"])
    assert outcome.message().endswith("; 2 saved to your library")
    tags = {x.paper_id: x.tags for x in Personal(catalog.store).library(user)}
    assert tags[stored.id] == ("old", "new")
    assert own_papers(catalog.store, user) == []


def test_bad_uploads_are_refused_with_the_users_file_name(catalog: Catalog,
                                                         tmp_path: Path) -> None:
    upload = tmp_path / "upload-0002"
    upload.write_text("% nothing but a comment\n", encoding="utf-8")
    with pytest.raises(UploadError) as error:
        read_publication_list(upload, UPLOAD_LIMITS, name="my list.txt")
    assert "my list.txt" in str(error.value) and str(upload) not in str(error.value)
    with pytest.raises(UploadError, match="target: expected one of profile, library"):
        import_papers(catalog, _user(catalog), [paper(1)], target="elsewhere")
