"""The feed's lexical stage on a small catalog with a toy embedder (no model, a few seconds),
on SQLite and on PostgreSQL (the ranker's inputs: own papers, ratings, follows)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from paperfeed.accounts import Accounts
from paperfeed.catalog import Catalog
from paperfeed.index.vocabulary import VOCABULARY_FILE
from paperfeed.rank.feed import Feed
from paperfeed.rank.profile import RankerParams
from paperfeed.records import PaperRecord
from paperfeed.store.personal import Personal
from tests.index.conftest import FakeEmbedder

DAY = datetime.date(2025, 3, 20)
TOPICS = ["graph neural networks for molecules", "speech recognition with transformers",
          "reinforcement learning for robot control", "image segmentation with convolutions"]


@pytest.fixture
def catalog(data_dir: Path, database: str) -> Catalog:
    records = [
        PaperRecord(title=f"Study {i} of {TOPICS[i % 4]}",
                    abstract=f"We revisit {TOPICS[i % 4]} on benchmark {i % 9}.",
                    arxiv_id=f"2503.{i:05d}", first_listed=DAY - datetime.timedelta(days=i % 3))
        for i in range(80)
    ]
    records += [
        PaperRecord(title="Lidar odometry", abstract="Lidar odometry and mapping outdoors.",
                    arxiv_id="2503.90001", first_listed=DAY - datetime.timedelta(days=30)),
        PaperRecord(title="Lidar localisation", abstract="Localisation from lidar scans.",
                    arxiv_id="2503.90002", first_listed=DAY - datetime.timedelta(days=30)),
        PaperRecord(title="Segmentation of lidar point clouds",
                    abstract="Semantic segmentation of lidar point clouds with convolutions.",
                    arxiv_id="2503.90003", first_listed=DAY),
    ]
    catalog = Catalog(data_dir, embedder=FakeEmbedder())
    catalog.ingest_records(records)
    catalog.update_index()
    return catalog


def user_owning(catalog: Catalog, *arxiv_ids: str) -> int:
    user = Accounts(catalog.store).sign_up("reader@example.org", "long enough password").id
    ids = [paper.id for ref in arxiv_ids if (paper := catalog.store.find(ref)) is not None]
    Personal(catalog.store).add_own(user, ids)
    return user


def test_the_default_feed_ranks_with_the_top_2_mean_and_names_shared_terms(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_needed() -> None:
        raise AssertionError("the default ranker has no lexical part: no vocabulary to load")

    monkeypatch.setattr(catalog, "vocabulary", not_needed)
    user = user_owning(catalog, "2503.90001", "2503.90002")
    feed = Feed(catalog)
    profile = feed.profile(user)
    assert profile is not None and profile.method == "topk" and not profile.lexical
    picks = feed.picks(user, None, 5)
    lidar = catalog.store.find("2503.90003")
    assert lidar is not None and picks[0].paper_id == lidar.id
    assert "shared terms: lidar" in picks[0].reason


def test_the_feed_fits_the_vocabulary_and_ranks_with_the_lexical_part(catalog: Catalog) -> None:
    user = user_owning(catalog, "2503.90001", "2503.90002")
    feed = Feed(catalog, params=RankerParams(method="blend", lexical=0.3))
    profile = feed.profile(user)
    assert profile is not None and profile.lexical
    assert (catalog.store.data_dir / "index" / VOCABULARY_FILE).exists()
    picks = feed.picks(user, None, 5)
    lidar = catalog.store.find("2503.90003")
    assert lidar is not None and picks[0].paper_id == lidar.id
    assert "shared terms: lidar" in picks[0].reason


def test_the_feed_ranks_on_embeddings_alone_without_a_vocabulary(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable() -> None:
        raise PermissionError("read-only data directory")

    monkeypatch.setattr(catalog, "vocabulary", unwritable)
    user = user_owning(catalog, "2503.90001", "2503.90002")
    feed = Feed(catalog, params=RankerParams(method="blend", lexical=0.3))
    profile = feed.profile(user)
    assert profile is not None and not profile.lexical
    picks = feed.picks(user, None, 5)
    assert len(picks) == 5 and all(p.reason for p in picks)


def test_cached_tfidf_rows_equal_fresh_ones() -> None:
    from typing import cast

    from paperfeed.catalog import Catalog
    from paperfeed.index.vocabulary import Vocabulary
    from paperfeed.rank.feed import Feed

    texts = {1: "token pruning for vision transformers", 2: "object tracking on LaSOT",
             3: "token merging speeds up vision transformers", 4: ""}
    vocabulary = Vocabulary.fit(list(texts.values()) * 2)
    feed = Feed(cast(Catalog, None))
    first = feed._term_rows(vocabulary, [3, 1], texts)
    # A second call reuses rows 1 and 3 and transforms only 2 and 4; order follows the keys.
    again = feed._term_rows(vocabulary, [2, 3, 4, 1], texts)
    fresh = vocabulary.transform([texts[k] for k in (2, 3, 4, 1)])
    assert (again != fresh).nnz == 0 and again.shape == fresh.shape
    assert (first != vocabulary.transform([texts[3], texts[1]])).nnz == 0
    assert feed._term_rows(vocabulary, [], texts).shape == (0, len(vocabulary))
