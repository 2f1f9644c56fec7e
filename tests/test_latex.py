"""clean_latex: the LaTeX in arXiv titles and abstracts as plain Unicode text."""

from __future__ import annotations

import gzip
import json
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperfeed import latex
from paperfeed.latex import clean_latex

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the examples ------------------------------------------------------------------------

EXACT = [
    # math
    (r"$\boldsymbol{\cdot}$", "·"),
    (r"$\alpha$-divergence", "α-divergence"),
    (r"$10^{-6}$ and $x_{t-1}$", "10⁻⁶ and xₜ₋₁"),
    (r"$90^\circ$ rotation", "90° rotation"),
    (r"$W^\top x$", "Wᵀ x"),
    (r"$\mathbb{R}^n$", "ℝⁿ"),
    (r"$\mathbf{Campfire}$ is a model", "Campfire is a model"),
    (r"a $\times$1.93 speedup, $2.3\times$ faster", "a ×1.93 speedup, 2.3× faster"),
    (r"$>$3% better, ($<$5%)", ">3% better, (<5%)"),
    (r"$\text{VG}^2$GT: Voxel-Gaussian", "VG²GT: Voxel-Gaussian"),
    (r"regime \(1 < G \le UV\) holds", "regime 1 < G ≤ UV holds"),
    (r"$$ x \geq 0 $$ always", "x ≥ 0 always"),
    (r"$\sum_{j=0}^{r} x_j$", "∑ⱼ₌₀ʳ xⱼ"),
    (r"$\frac{\mathbb{F}_{q}[u]}{\langle u^t \rangle}$", "𝔽_q[u]/⟨ uᵗ ⟩"),
    # percent signs
    (r"\%", "%"),
    (r"95\% accuracy", "95% accuracy"),
    ("improves by 5% on ImageNet", "improves by 5% on ImageNet"),
    ("improves by 5% on\nImageNet and $\\alpha$", "improves by 5% on ImageNet and α"),
    (r"86\\% accuracy", "86% accuracy"),  # double-escaped by the author
    # text formatting
    (r"\textbf{bold}", "bold"),
    (r"\emph{x}", "x"),
    (r"\textit{x}", "x"),
    (r"{\em x}", "x"),
    (r"\texttt{x}", "x"),
    (r"\textsc{DynToM}, a benchmark", "DynToM, a benchmark"),
    (r"\textit{\textbf{MM-Misogyny}} detects", "MM-Misogyny detects"),
    (r"\textbf{COOP}eration with \textbf{E}mergent", "COOPeration with Emergent"),
    (r"\textcolor{red}{This paper} warns", "This paper warns"),
    (r"\underline{u} and \text{t}", "u and t"),
    # links
    (r"\url{https://x.y}", "https://x.y"),
    (r"\href{https://a.b}{text}", "text"),
    (r"code at \url{https://x.org/a_b~c%20d}.", "code at https://x.org/a_b~c%20d."),
    (r"on~\href{https://github.com/x}{\textcolor{magenta}{GitHub}}.", "on GitHub."),
    ("see https://www.robots.ox.ac.uk/~vgg/dpm--x", "see https://www.robots.ox.ac.uk/~vgg/dpm--x"),
    (r"resources\footnote{https://github.com/a/b}.", "resources (https://github.com/a/b)."),
    # punctuation
    ("a--b", "a–b"),
    ("pages 3--5 --- and more", "pages 3–5 — and more"),
    ("a~b", "a b"),
    (r"Fig.~3 and Wang and Liu~\cite{wang2024}", "Fig. 3 and Wang and Liu"),
    ("``quoted''", "“quoted”"),
    (r"R\&D", "R&D"),
    (r"snake\_case", "snake_case"),
    (r"\"{o}", "ö"),
    (r"\'e", "é"),
    (r"{\"u}ber", "über"),
    (r"Do\~nana National Park", "Doñana National Park"),
    ("~50\\% fewer, (~2x) and 94% ~ 96%", "~50% fewer, (~2x) and 94% ~ 96%"),
    # references
    (r"as shown \cite{smith2020} before", "as shown before"),
    (r"survey generation \cite{a, b}. Next, Liu~\citep{c}", "survey generation. Next, Liu"),
    (r"Table \ref{tab:1}\label{x} lists", "Table lists"),
    (r"prior work \citep[see][p. 3]{a,b} fails", "prior work fails"),
    # what authors and converters leave behind
    (r"\b{eta}-VAE with \k{appa} = 0.7", "β-VAE with κ = 0.7"),
    (r"360{\deg} rotation and 8.2\deg", "360° rotation and 8.2°"),
    (r"hallucinations$\unicode{x2013}$plausible", "hallucinations–plausible"),
    (r"strategies (\eg, pooling), \ie a mean", "strategies (e.g., pooling), i.e. a mean"),
    # broken LaTeX: never raises, never loses the text around it
    ("{unbalanced", "unbalanced"),
    ("unbalanced} text", "unbalanced text"),
    ("costs $5 per query", "costs $5 per query"),
    ("costs $5 and $10 per query", "costs $5 and $10 per query"),
    ("between $48-$74 per voter", "between $48-$74 per voter"),
    ("US$5 and US$10", "US$5 and US$10"),
    ("a lone $ sign", "a lone $ sign"),
    (r"costs \$5 per query", "costs $5 per query"),
    (r"named \b geometric \b attack", "named geometric attack"),
    (r"\unknownmacro{arg}", "arg"),
    ("trailing \\", "trailing"),
    ("$$", "$$"),
    (r"\begin{itemize} without an end", "without an end"),
    (r"an \end{itemize} without a begin", "an without a begin"),
    (r"\( never closed", "never closed"),
    (r"\textbf{never closed", "never closed"),
    ("\\'", ""),
    # plain text passes through, whitespace normalised
    ("Plain   text\n with  spaces ", "Plain text with spaces"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("Q&amp;A and &lt;b&gt;", "Q&amp;A and &lt;b&gt;"),
    (r"<script>alert(1)</script> and $x$ & {y}", "<script>alert(1)</script> and x & y"),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("text", "expected"), EXACT)
def test_examples(text: str, expected: str) -> None:
    assert clean_latex(text) == expected


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        (r"$O(n^2)$", {"O(n²)", "O(n^2)"}),
        (r"$\mathcal{O}(n)$", {"O(n)", "𝒪(n)"}),
        (r"$\sim$50%", {"~50%", "∼50%"}),
        (r"a $\frac{1}{2}$ share", {"a 1/2 share", "a ½ share"}),
    ],
)
def test_examples_with_a_choice(text: str, allowed: set[str]) -> None:
    assert clean_latex(text) in allowed


def test_an_authors_own_macros_show_their_name() -> None:
    text = r"we propose \method, which beats \ours{} and \ModelName~easily"
    assert clean_latex(text) == "we propose method, which beats ours and ModelName easily"


def test_list_environment_becomes_a_bulleted_line() -> None:
    text = r"\begin{itemize} \item \textbf{Limit.} We show \item Bound \end{itemize}"
    assert clean_latex(text) == "• Limit. We show • Bound"


def test_abstract_wrapped_at_80_columns_is_one_line() -> None:
    abstract = (
        "Sensor simulation is pivotal for scalable validation of autonomous driving\n"
        "systems, yet existing Neural Radiance Fields (NeRF) based methods face\n"
        "applicability and efficiency challenges with $\\alpha$-blending in 95\\% of\n"
        "cases."
    )
    cleaned = clean_latex(abstract)
    assert "\n" not in cleaned
    assert cleaned.endswith("challenges with α-blending in 95% of cases.")
    assert "driving systems, yet" in cleaned


def test_falls_back_to_the_regex_cleaner_when_pylatexenc_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: object, text: str) -> str:
        raise RecursionError("pylatexenc gave up")

    monkeypatch.setattr(latex._Engine, "convert", broken)
    with _fresh_caches():
        cleaned = clean_latex(r"we get \textbf{bold} results, $\alpha$ \cite{x} and 5% more")
    assert cleaned == "we get bold results, alpha and 5% more"


def test_falls_back_when_pylatexenc_loses_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(latex._Engine, "convert", lambda self, text: "")
    with _fresh_caches():
        cleaned = clean_latex(r"see \textbf{a long emphasised phrase} here")
    assert cleaned == "see a long emphasised phrase here"


@contextmanager
def _fresh_caches() -> Iterator[None]:
    """Clear the memo caches on entry and exit, so a monkeypatch neither sees nor leaks."""
    latex._render.cache_clear()
    clean_latex.cache_clear()
    try:
        yield
    finally:
        latex._render.cache_clear()
        clean_latex.cache_clear()


# --- properties --------------------------------------------------------------------------

LATEXISH = "{}$\\%~-`'_^&#[]()<> \nabcxyzAB019"
FRAGMENTS = [
    "\\textbf{",
    "\\emph{",
    "\\boldsymbol{",
    "\\textit",
    "\\begin{itemize}",
    "\\end{itemize}",
    "\\item",
    "\\cite{",
    "\\href{",
    "\\url{",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\\\",
    "\\",
    "\\'",
    '\\"',
    "\\%",
    "\\$",
    "{",
    "}",
    "$",
    "$$",
    "%",
    "~",
    "--",
    "``",
    "''",
    "^",
    "_",
    "&",
    "#",
    " ",
    "\n",
    "word",
    "5",
    "\\alpha",
    "\\frac",
    "\\unknown",
    "\\deg",
    "\\b",
    "eta",
    "https://x.org/~a",
]
latex_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
anything = st.one_of(st.text(), st.text(alphabet=LATEXISH), latex_soup)


@SETTINGS
@given(anything)
def test_never_raises_and_returns_normalised_text(text: str) -> None:
    cleaned = clean_latex(text)
    assert isinstance(cleaned, str)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned and "\n" not in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "{" * 200_000,
        "}" * 200_000,
        "$" * 200_000,
        "\\" * 200_000,
        "\\(" * 100_000,
        "$x" * 100_000,
        "$5 " * 70_000,
        "\\begin{a}" * 25_000,
        "{" * 100_000 + "}" * 100_000,
        "\\textbf{" * 25_000,
        ("word \\emph{x} $\\alpha$ 5% {y} -- ~ " * 6_000)[:200_000],
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_never_raises_on_huge_input(text: str) -> None:
    cleaned = clean_latex(text)
    assert isinstance(cleaned, str)


@SETTINGS
@given(anything)
def test_output_never_shows_formatting_macros(text: str) -> None:
    cleaned = clean_latex(text)
    for macro in ("\\textbf", "\\emph", "\\boldsymbol"):
        assert macro not in cleaned


@SETTINGS
@given(st.text(alphabet=string.ascii_letters + string.digits + " \n\t"))
def test_plain_text_is_unchanged_but_for_whitespace(text: str) -> None:
    assert clean_latex(text) == " ".join(text.split())


@SETTINGS
@given(st.lists(st.sampled_from([*FRAGMENTS, "$x$", "\\textbf{b}", "{\\em e}"]), max_size=10))
def test_html_survives_as_literal_text(parts: list[str]) -> None:
    # Balanced neighbours only: "\cite{<script>...}" rightly drops the citation key.
    safe = [p for p in parts if p not in {"{", "}", "\\", "$", "$$", "\\(", "\\[", "\\cite{"}]
    safe = [p for p in safe if not p.endswith("{")]
    middle = len(safe) // 2
    text = "".join(safe[:middle]) + " <script>alert(1)</script> " + "".join(safe[middle:])
    assert "<script>alert(1)</script>" in clean_latex(text)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_money_keeps_its_dollars(a: int, b: int) -> None:
    text = f"it costs ${a} per query, or ${b}.50 in bulk, with {{caching}}"
    assert clean_latex(text) == f"it costs ${a} per query, or ${b}.50 in bulk, with caching"


@SETTINGS
@given(
    st.text(alphabet=string.ascii_letters + " ", min_size=1),
    st.text(alphabet=string.ascii_letters + " ", min_size=1),
)
def test_a_bare_percent_is_not_a_comment(before: str, after: str) -> None:
    text = f"{before} by 5% {after}\n\\textbf{{more}}"
    assert clean_latex(text) == " ".join(f"{before} by 5% {after} more".split())


# --- real abstracts ----------------------------------------------------------------------

LEFTOVER = re.compile(r"\\[a-zA-Z]+|\$[^$]+\$")


def _records(folder: Path, limit: int) -> Iterator[tuple[str, str]]:
    """(title, abstract) of the first `limit` papers in the folder's JSON-lines files."""
    count = 0
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                yield record["title"], record["abstract"]
                count += 1
                if count >= limit:
                    return


def test_real_abstracts_come_out_clean() -> None:
    from tests.conftest import shared_path

    folder = shared_path("arxiv-daily-cs")
    records = list(_records(folder, 2_000))
    assert len(records) == 2_000, "expected 2,000 papers in ../shared/data/arxiv-daily-cs"
    with_latex = 0
    leftovers: list[tuple[str, str]] = []  # (which field, cleaned text)
    for title, abstract in records:
        for field, text in (("title", title), ("abstract", abstract)):
            with_latex += bool(re.search(r"\\[a-zA-Z]+|\$", text))
            cleaned = clean_latex(text)
            if LEFTOVER.search(cleaned):
                leftovers.append((field, cleaned))
            # Markup goes, the words stay: nothing comes out at under half its length.
            assert len(cleaned) >= len(" ".join(text.split())) // 2, text
    rate = sum(field == "abstract" for field, _ in leftovers) / len(records)
    print(
        f"\n{with_latex} of {2 * len(records)} titles and abstracts hold a macro or a $; "
        f"{len(leftovers)} still show a macro or a $...$ pair after cleaning "
        f"(abstracts: {rate:.2%})"
    )
    for field, cleaned in leftovers:
        found = LEFTOVER.search(cleaned)
        assert found is not None
        start = max(0, found.start() - 60)
        print(f"  {field}: ...{cleaned[start : found.end() + 60]}...")
    assert rate < 0.01
