"""The paper record's normalisers: arXiv ids, DOIs, names, code links, derived titles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paperfeed.records import (
    derive_title,
    find_code_urls,
    normalize_doi,
    parse_author,
    split_arxiv_id,
    title_key,
)


def test_arxiv_ids_in_every_spelling() -> None:
    assert split_arxiv_id("2503.11731") == ("2503.11731", None)
    assert split_arxiv_id("arXiv:2503.11731v2") == ("2503.11731", 2)
    assert split_arxiv_id("https://arxiv.org/pdf/2503.11731v10") == ("2503.11731", 10)
    assert split_arxiv_id("oai:arXiv.org:quant-ph/9501001") == ("quant-ph/9501001", None)
    assert split_arxiv_id("math.GT/0309136v1") == ("math.GT/0309136", 1)
    assert split_arxiv_id("10.1103/PhysRevD.76.013009") is None
    assert split_arxiv_id("") is None


def test_doi_normalised() -> None:
    doi = normalize_doi("https://doi.org/10.1103/PhysRevD.76.013009.")
    assert doi == "10.1103/physrevd.76.013009"
    assert normalize_doi("doi:10.48550/arXiv.2503.1") == "10.48550/arxiv.2503.1"
    assert normalize_doi("not a doi") is None


def test_author_names_parsed() -> None:
    a = parse_author("Nadolsky, Pavel M.")
    assert (a.name, a.given, a.family) == ("Pavel M. Nadolsky", "Pavel M.", "Nadolsky")
    b = parse_author("  Moreno   D'Incà ")
    assert (b.name, b.family) == ("Moreno D'Incà", "D'Incà")
    assert parse_author("Helen").family == "Helen"


def test_code_urls_found_and_cleaned() -> None:
    text = ("Code is available at https://github.com/youweiliang/evit. See also "
            "\\url{github.com/a/b}, our project page (https://x.org/proj), and "
            "https://en.wikipedia.org/wiki/Thing for background.")
    assert find_code_urls(text) == (
        "https://github.com/youweiliang/evit",
        "https://github.com/a/b",
        "https://x.org/proj",
    )
    assert find_code_urls(None) == ()


def test_derived_title_is_the_first_sentence_cut_on_a_word() -> None:
    abstract = ("We introduce Speech Information Retrieval (SIR), a new long-context task for "
                "Speech Large Language Models (Speech LLMs), and present SPIRAL. More text.")
    title = derive_title(abstract)
    assert title.startswith("We introduce Speech Information Retrieval (SIR)")
    assert title.endswith("…") and len(title) <= 111
    assert derive_title("Short one. Second.") == "Short one"
    assert derive_title("   ") == "Untitled"


def test_title_key_ignores_case_punctuation_and_accents() -> None:
    same = title_key("deep nets uber fast", "Muller")
    assert title_key("Deep  Nets: Über-Fast!", "Müller") == same
    assert title_key("Deep nets", "Smith") != title_key("Deep nets", "Jones")


@given(st.text())
def test_normalisers_never_crash(text: str) -> None:
    split_arxiv_id(text)
    normalize_doi(text)
    find_code_urls(text)
    assert derive_title(text)
    parse_author(text)
    title_key(text, text)
