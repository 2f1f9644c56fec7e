"""BibTeX entries read with bibtexparser v2."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperfeed.errors import SourceError
from paperfeed.records import PaperRecord
from paperfeed.sources import detect_format, read_records
from paperfeed.sources.bibtex import latex_to_text, parse_bibtex

BIB = r"""% My bibliography
@string{acl = "Proceedings of ACL"}

@Article{balazs2007,
  Title = {Calculation of {P}rompt Diphoton Production at the {T}evatron: Bal{\'a}zs {\&} Co},
  Author = {Bal{\'a}zs, C. and Berger, E. L. and P. M. Nadolsky and {van der} Waals, J. and others},
  year = 2007, month = jul,
  journal = {Phys. Rev. D},
  doi = {https://doi.org/10.1103/PhysRevD.76.013009},
  url = {https://example.org/paper%20one},
  abstract = {We  present a
     calculation. Code: \url{https://github.com/x/diphoton}.},
  keywords = {qcd, photons},
}

@inproceedings{vaswani2017,
  title = "Attention Is All You Need",
  author = {Ashish Vaswani and Noam Shazeer},
  booktitle = acl,
  year = {2017},
  eprint = {1706.03762v5}, archivePrefix = {arXiv}, primaryClass = {cs.CL},
}

@misc{scholar2021,
  title = {A {G}oogle {S}cholar export},
  author = {M{\"u}ller, J{\"o}rg},
  journal = {arXiv preprint arXiv:2101.00001},
  year = {2021},
}

@article{dblp,
  title = {{DBLP} style},
  journal = {CoRR},
  volume = {abs/2203.04567},
  year = {2022},
}

@misc{arxivdoi, title = {DOI only}, doi = {10.48550/arXiv.2304.00001}, month = {11}, year = 2023}
@misc{pdfurl, title = {Only a PDF}, url = {https://arxiv.org/pdf/2305.00002v2}}
"""


def records_of(text: str) -> dict[str, PaperRecord]:
    return {dict(r.source_ids)["bibtex"]: r for r in parse_bibtex(text, file="refs.bib")}


def test_entries_in_order_with_keys_and_lines() -> None:
    records = list(parse_bibtex(BIB, file="refs.bib"))
    keys = [dict(r.source_ids)["bibtex"] for r in records]
    assert keys == ["balazs2007", "vaswani2017", "scholar2021", "dblp", "arxivdoi", "pdfurl"]
    lines = BIB.split("\n")
    for record, key in zip(records, keys, strict=True):
        line = record.provenance[0].line
        assert line is not None and key in lines[line - 1]
        assert record.provenance[0].source == "bibtex"
        assert record.provenance[0].file == "refs.bib"


def test_latex_title_authors_dates_and_links() -> None:
    record = records_of(BIB)["balazs2007"]
    assert record.title == "Calculation of Prompt Diphoton Production at the Tevatron: Balázs & Co"
    assert [a.name for a in record.authors] == [
        "C. Balázs", "E. L. Berger", "P. M. Nadolsky", "J. van der Waals"
    ]
    assert [a.family for a in record.authors] == ["Balázs", "Berger", "Nadolsky", "van der Waals"]
    assert record.submitted == date(2007, 7, 1)
    assert record.doi == "10.1103/physrevd.76.013009"
    # A `%` in a URL is kept: LaTeX decoding is only for prose fields.
    assert record.abs_url == "https://example.org/paper%20one"
    assert record.abstract == "We present a calculation. Code: https://github.com/x/diphoton."
    assert record.code_urls == ("https://github.com/x/diphoton",)
    assert record.journal_ref == "Phys. Rev. D"
    assert record.arxiv_id is None


def test_arxiv_ids_wherever_bibliographies_put_them() -> None:
    records = records_of(BIB)
    attention = records["vaswani2017"]
    assert (attention.arxiv_id, attention.arxiv_version) == ("1706.03762", 5)
    assert attention.categories == ("cs.CL",)
    assert attention.journal_ref == "Proceedings of ACL"  # @string resolved
    assert attention.abs_url == "https://arxiv.org/abs/1706.03762"
    assert attention.submitted == date(2017, 1, 1)
    assert records["scholar2021"].arxiv_id == "2101.00001"
    assert records["scholar2021"].journal_ref is None  # "arXiv preprint" is no venue
    assert records["scholar2021"].authors[0].name == "Jörg Müller"
    assert records["dblp"].arxiv_id == "2203.04567"
    assert records["dblp"].title == "DBLP style"
    assert records["arxivdoi"].arxiv_id == "2304.00001"
    assert records["arxivdoi"].submitted == date(2023, 11, 1)
    pdf_only = records["pdfurl"]
    assert (pdf_only.arxiv_id, pdf_only.arxiv_version) == ("2305.00002", 2)
    assert pdf_only.pdf_url == "https://arxiv.org/pdf/2305.00002v2"
    assert pdf_only.submitted is None


def test_broken_block_names_its_line() -> None:
    text = (
        "@misc{ok, title={Fine}}\n\n@article{broken,\n  title = {Never closed\n\n"
        "@misc{b, title={B}}\n"
    )
    records = parse_bibtex(text, file="bad.bib")
    assert dict(next(records).source_ids)["bibtex"] == "ok"
    with pytest.raises(SourceError) as info:
        next(records)
    assert (info.value.file, info.value.line) == ("bad.bib", 3)


def test_duplicate_key_is_an_error() -> None:
    text = "@misc{same, title={One}}\n@misc{same, title={Two}}\n"
    with pytest.raises(SourceError) as info:
        list(parse_bibtex(text))
    assert info.value.line == 2 and "same" in info.value.message


def test_entry_without_title_names_the_field() -> None:
    with pytest.raises(SourceError) as info:
        list(parse_bibtex("\n@misc{untitled, year={2020}}\n", file="t.bib"))
    assert (info.value.line, info.value.field) == (2, "title")


def test_entry_without_title_but_abstract_gets_a_derived_title() -> None:
    (record,) = parse_bibtex("@misc{a, abstract={We solve it. Then more.}}")
    assert record.title == "We solve it" and record.title_derived


def test_comments_strings_and_preambles_are_not_papers() -> None:
    text = '@comment{jabref-meta: x}\n@preamble{"\\newcommand{\\x}{y}"}\n@string{a = "b"}\n'
    assert list(parse_bibtex(text)) == []


@pytest.mark.parametrize(
    ("latex", "text"),
    [(r"Schr{\"o}dinger", "Schrödinger"), (r"{\em emphasis} \& more", "emphasis & more"),
     (r"$\alpha$-decay", "α-decay"), ("  spaced\n   out ", "spaced out"), (r"{{NASA}}", "NASA")],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


def test_bib_file_is_detected_and_read(write_file: Callable[..., Path]) -> None:
    path = write_file("refs.bib", "\ufeff" + BIB)
    assert detect_format(path) == "bibtex"
    records = list(read_records(path))
    assert len(records) == 6
    assert records[0].provenance[0].file == str(path)
    assert records[0].provenance[0].line == 4


def test_written_bibtex_reads_back() -> None:
    from datetime import date

    from paperfeed.records import parse_author
    from paperfeed.sources.bibtex import write_bibtex

    papers = [
        PaperRecord(title="A & B: 50% better {LLMs}", abstract="",
                    authors=(parse_author("Ada Lovelace"), parse_author("Alan Turing")),
                    arxiv_id="2503.11731", categories=("cs.CV",), submitted=date(2025, 3, 14)),
        PaperRecord(title="Broken {brace", abstract="", authors=(parse_author("Ada Lovelace"),),
                    submitted=date(2025, 3, 14), doi="10.1000/xyz"),
    ]
    text = write_bibtex(papers)
    assert "@article{lovelace2025better," in text and "@article{lovelace2025broken," in text
    back = list(parse_bibtex(text))
    assert [p.title for p in back] == ["A & B: 50% better LLMs", "Broken brace"]
    assert back[0].arxiv_id == "2503.11731" and back[1].doi == "10.1000/xyz"
    assert [a.name for a in back[0].authors] == ["Ada Lovelace", "Alan Turing"]
    assert write_bibtex([]) == ""


@settings(max_examples=60, deadline=None)
@given(title=st.text(st.characters(blacklist_characters="\\"), max_size=200).filter(
           lambda t: any(c.isalpha() for c in t)),
       name=st.text(st.characters(blacklist_characters="\\"), max_size=40).filter(
           lambda t: any(c.isalpha() for c in t)))
def test_any_title_writes_bibtex_that_parses(title: str, name: str) -> None:
    from paperfeed.records import parse_author
    from paperfeed.sources.bibtex import write_bibtex

    # Titles without backslashes: a backslash starts a LaTeX macro, kept as written.
    text = write_bibtex([PaperRecord(title=title, abstract="", authors=(parse_author(name),))])
    assert text.startswith("@article{")
    [back] = parse_bibtex(text)  # a parse error would raise SourceError
    assert len(back.authors) == 1
