"""One paper shape and one LaTeX-cleaning path: the CLI, the API, Atom and digests agree."""

from __future__ import annotations

import datetime
from pathlib import Path

from lxml import etree

from paperfeed.catalog import Catalog
from paperfeed.cli.render import paper_json
from paperfeed.digest.send import digest_items
from paperfeed.feeds.atom import FeedInfo, FeedItem, build_feed
from paperfeed.presentation import clean_segment, present
from paperfeed.rank.picks import Pick
from paperfeed.records import Author, PaperRecord
from paperfeed.store import StoredPaper
from paperfeed.web.views import Views
from tests.index.conftest import FakeEmbedder

LATEX = PaperRecord(
    title=r"$\alpha$-divergence for \textbf{robust} detection",
    abstract=r"We gain 95\% accuracy at $\mathcal{O}(n)$ cost with \emph{no} labels.",
    comment=r"Accepted at \textit{NeurIPS}", arxiv_id="2503.99980",
    authors=(Author(name="Ada Lovelace"),), first_listed=datetime.date(2025, 3, 20))
TITLE = "α-divergence for robust detection"
ABSTRACT = "We gain 95% accuracy at 𝒪(n) cost with no labels."


def test_a_view_cleans_the_texts_and_names_the_paper() -> None:
    view = present(StoredPaper(id=7, record=LATEX, revision=1))
    assert (view.title, view.abstract, view.comment) == (TITLE, ABSTRACT, "Accepted at NeurIPS")
    assert (view.ref, view.path, view.listed) == ("2503.99980", "/papers/2503.99980",
                                                  datetime.date(2025, 3, 20))
    plain = present(StoredPaper(id=8, record=PaperRecord(title="x y"), revision=1))
    assert (plain.ref, plain.path, plain.comment, plain.listed) == ("8", "/papers/8", None, None)
    old_style = PaperRecord(title="t", arxiv_id="hep-th/9901001")
    assert present(StoredPaper(9, old_style, 1)).path == "/papers/hep-th/9901001"
    assert clean_segment(r" $\alpha$ ") == " α " and clean_segment("") == ""


def test_every_channel_shows_the_same_clean_paper(data_dir: Path) -> None:
    with Catalog(data_dir, embedder=FakeEmbedder()) as catalog:
        catalog.ingest_records([LATEX])
        stored = catalog.find("2503.99980")
        view = present(stored)
        # CLI --json
        cli = paper_json(stored)
        assert cli == view.as_json() and (cli["title"], cli["abstract"]) == (TITLE, ABSTRACT)
        # The JSON API's paper detail (field names as before)
        api = Views(catalog).paper("2503.99980", None)
        assert (api.title, api.abstract, api.comment, api.ref, api.url) == (
            TITLE, ABSTRACT, "Accepted at NeurIPS", "2503.99980", "/papers/2503.99980")
    # Atom
    info = FeedInfo(title="t", subtitle="s", self_url="http://feed.test/feeds/x.atom",
                    home_url="http://feed.test/")
    atom = etree.fromstring(build_feed(info, [FeedItem(stored)], base_url="http://feed.test"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.findtext("a:entry/a:title", namespaces=ns) == TITLE
    assert atom.findtext("a:entry/a:summary", namespaces=ns) == ABSTRACT
    assert atom.find("a:entry/a:link", namespaces=ns).get("href") == (
        "http://feed.test/papers/2503.99980")
    # Email digest
    [item] = digest_items([stored], [Pick(stored.id, 1.0, "why")], "http://feed.test")
    assert (item.title, item.page_url) == (TITLE, "http://feed.test/papers/2503.99980")
