r"""Turning the LaTeX fragments found in paper titles and abstracts into plain Unicode text.

Owns `clean_latex`, which every page and digest calls before showing a title or an
abstract, so that a reader sees ``α-divergence`` and ``95% accuracy`` rather than
``$\alpha$-divergence`` and ``95\% accuracy``. It returns plain text: escaping for
HTML is the template's job, so ``<script>`` and ``&amp;`` come back untouched.

arXiv metadata is LaTeX written by thousands of authors with no compiler to check
it, so the input is treated as mostly-prose with islands of LaTeX in it:

1. A pre-pass on the whole string resolves what needs no parser: escaped
   characters (``\%``, ``\&``, ``\_``, ``\$``, ``\{``), bare ``%`` / ``&`` / ``#``
   (plain text in an abstract, never a comment), URLs (``\url``, ``\href`` and bare
   ``https://`` links are kept verbatim), ``\unicode{x2013}`` and ``\char"0986``,
   Greek letters that a broken converter split into an accent (``\b{eta}``), and an
   author's own macros (``\method``, ``\ours{}``), which are shown by name.
2. A scanner cuts the rest into plain text and LaTeX islands: ``$...$`` pairs (a
   lone ``$``, as in "costs $5 per query", is text), ``\(...\)``, ``\[...\]``,
   ``\begin{..}...\end{..}``, brace groups and known macros with their arguments.
3. Each island goes through pylatexenc (cached: ``\textbf{Ours}`` and ``$\times$``
   recur across thousands of abstracts); plain text only gets dashes, quotes and
   ties. pylatexenc is guarded: an island that raises, or whose text comes back
   with most of its letters gone, is cleaned by a simple regex cleaner instead.

Nothing here raises on any input: broken LaTeX loses its markup, never the text
around it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

__all__ = ["clean_latex"]

# --- literal characters ----------------------------------------------------------------
# Characters that must reach the output verbatim (escaped specials, URL text, a tilde
# that means "approximately") travel through the pipeline as private-use placeholders,
# so neither the scanner nor pylatexenc reinterprets them; they are restored at the end.
_LITERAL_CHARS = "\\{}$%&#~^_-'`"
_PLACEHOLDER_BASE = 0xF0000  # Supplementary Private Use Area-A: never in real metadata
_TO_PLACEHOLDER = {c: chr(_PLACEHOLDER_BASE + i) for i, c in enumerate(_LITERAL_CHARS)}
_PROTECT = str.maketrans(_TO_PLACEHOLDER)
_RESTORE = str.maketrans({v: k for k, v in _TO_PLACEHOLDER.items()})
_FIRST_PLACEHOLDER = chr(_PLACEHOLDER_BASE)
_PLACEHOLDER_RE = re.compile(
    f"[{chr(_PLACEHOLDER_BASE)}-{chr(_PLACEHOLDER_BASE + len(_LITERAL_CHARS) - 1)}]"
)


def _lit(text: str) -> str:
    """`text` protected from every later step: it comes out exactly as given."""
    return text.translate(_PROTECT)


# --- small tables -----------------------------------------------------------------------
_TRIGGERS = ("\\", "$", "{", "}", "~", "--", "``", "''")  # no LaTeX without one of these
_ALNUM = re.compile(r"[^\W_]", re.UNICODE)

_GREEK_NAMES = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda "
    "mu nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
)
_GREEK = frozenset(_GREEK_NAMES.split())

# Argument-less macros that authors use as words; replaced before parsing.
_WORDS: dict[str, str] = {
    "eg": "e.g.",
    "ie": "i.e.",
    "etal": "et al.",
    "wrt": "w.r.t.",
    "vs": "vs.",
    "cf": "cf.",
    "etc": "etc.",
    "aka": "a.k.a.",
    "iid": "i.i.d.",
    "checkmark": "✓",
    "cmark": "✓",
    "xmark": "✗",
    "textasciitilde": _lit("~"),
    "textbackslash": _lit("\\"),
    "textasciicircum": _lit("^"),
    "textunderscore": _lit("_"),
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textbullet": "•",
    "textdegree": "°",
    "degree": "°",
    "textregistered": "®",
    "texttrademark": "™",
    "textcopyright": "©",
    "circledR": "®",
    "ne": "≠",
}

# Macros that produce no text at all (layout, fonts, sizes, references).
_DROP_WORD_NAMES = (
    "small footnotesize scriptsize tiny large Large LARGE huge Huge normalsize centering "
    "raggedright raggedleft noindent indent newline linebreak nolinebreak pagebreak par "
    "bfseries itshape ttfamily sffamily rmfamily mdseries upshape scshape slshape normalfont "
    "xspace relax protect displaystyle textstyle scriptstyle scriptscriptstyle hfill vfill "
    "smallskip medskip bigskip clearpage newpage ignorespaces nobreak allowbreak limits "
    "nolimits hline toprule midrule bottomrule maketitle tableofcontents unskip mathstrut "
    "strut leavevmode selectfont nonumber notag boldmath unboldmath em bf it rm sf tt sc sl "
    "up md"
)
_DROP_WORDS = _DROP_WORD_NAMES.split()
_DROP_WORD_SET = frozenset(_DROP_WORDS) | {"left", "right", "big", "Big", "bigl", "bigr"}
_DROP_WITH_ARGS: dict[str, str] = {
    "cite": "*[[{",
    "citep": "*[[{",
    "citet": "*[[{",
    "citealt": "*[[{",
    "citealp": "*[[{",
    "citeauthor": "*[[{",
    "citeyear": "*[[{",
    "citeyearpar": "*[[{",
    "Cite": "*[[{",
    "Citet": "*[[{",
    "Citep": "*[[{",
    "citenum": "{",
    "nocite": "{",
    "autocite": "*[[{",
    "parencite": "*[[{",
    "textcite": "*[[{",
    "footcite": "*[[{",
    "ref": "*{",
    "eqref": "{",
    "autoref": "*{",
    "cref": "*{",
    "Cref": "*{",
    "pageref": "*{",
    "label": "{",
    "color": "[{",
    "definecolor": "[{{{",
    "colorlet": "[{[{",
    "pagecolor": "[{",
    "usepackage": "[{",
    "documentclass": "[{",
    "newcommand": "*{[[{",
    "renewcommand": "*{[[{",
    "providecommand": "*{[[{",
    "DeclareMathOperator": "*{{",
    "hspace": "*{",
    "vspace": "*{",
    "hphantom": "{",
    "vphantom": "{",
    "phantom": "{",
    "includegraphics": "*[{",
    "bibliographystyle": "{",
    "bibliography": "{",
    "setlength": "{{",
    "setcounter": "{{",
    "thanks": "{",
    "fontsize": "{{",
    "vskip": "",
    "hskip": "",
}
# Macros whose arguments are text, declared to the parser with the arguments they
# take: some it lacks (\texttt, \boldsymbol), some it renders badly (\url, \item).
_KEEP_ARGS: dict[str, str] = {
    "texttt": "{",
    "textsf": "{",
    "textup": "{",
    "textmd": "{",
    "textnormal": "{",
    "mbox": "{",
    "hbox": "{",
    "fbox": "{",
    "uline": "{",
    "sout": "{",
    "st": "{",
    "underline": "{",
    "textsubscript": "{",
    "boldsymbol": "{",
    "bm": "{",
    "mathds": "{",
    "mathbbm": "{",
    "operatorname": "*{",
    "scalebox": "{{",
    "resizebox": "*{{{",
    "raisebox": "{[[{",
    "foreignlanguage": "[{{",
    "textsuperscript": "{",
    "url": "{",
    "href": "[{{",
    "footnote": "[{",
    "item": "[",
}
# Math macros pylatexenc lacks: argspec and text (with %s for the arguments).
_FORMATTED: dict[str, tuple[str, str]] = {
    "binom": ("{{", "C(%s, %s)"),
    "dbinom": ("{{", "C(%s, %s)"),
    "tbinom": ("{{", "C(%s, %s)"),
    "tfrac": ("{{", "%s/%s"),
    "dfrac": ("{{", "%s/%s"),
    "pmod": ("{", " (mod %s)"),
    "hyperlink": ("{{", "%(2)s"),
}
_PLAIN_MATH_FONTS = ("mathbf", "mathit", "mathsf", "mathtt", "mathrm", "mathnormal", "mathup")
_DINGS = {"51": "✓", "52": "✔", "55": "✗", "56": "✘", "72": "★", "73": "☆"}

_SUP: dict[str, str] = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
        strict=True,
    )
)
_SUB: dict[str, str] = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SUP_SPECIAL = {
    "\\circ": "°",
    "\\prime": "′",
    "\\prime\\prime": "″",
    "'": "′",
    "\\top": "ᵀ",
    "\\intercal": "ᵀ",
    "\\dagger": "†",
    "\\ddagger": "‡",
    "\\ast": "*",
    "*": "*",
    "\\star": "⋆",
}

_MAX_MATH = 2000  # a "$...$" pair further apart than this is two dollar signs in prose
_MAX_ISLAND = 20000  # longer islands skip pylatexenc (deep nesting, pathological input)


def _scripted(body: str, table: dict[str, str]) -> str | None:
    """`body` in Unicode super/subscript characters, or None when one has no form."""
    body = body.replace(" ", "")
    if not body or any(ch not in table for ch in body):
        return None
    return "".join(table[ch] for ch in body)


# --- the pylatexenc engine ------------------------------------------------------------------
class _Engine:
    """pylatexenc's parser and text converter, with paperfeed's macro table on top."""

    def __init__(self) -> None:
        from pylatexenc import latexwalker
        from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec
        from pylatexenc.latex2text import get_default_latex_context_db as l2t_db
        from pylatexenc.macrospec import MacroSpec

        # pylatexenc passes the converter only to a parameter named `l2tobj`.
        def arg(node: Any, l2tobj: Any, index: int) -> str:
            args = node.nodeargd.argnlist if node.nodeargd and node.nodeargd.argnlist else []
            if -len(args) <= index < len(args) and args[index] is not None:
                return str(l2tobj.nodelist_to_text([args[index]]))
            return ""

        def footnote(node: Any, l2tobj: Any) -> str:
            text = arg(node, l2tobj, -1).strip()
            return f" ({text})" if text else ""

        def superscript(node: Any, l2tobj: Any) -> str:
            text = arg(node, l2tobj, 0)
            return _scripted(text, _SUP) or text

        def subscript(node: Any, l2tobj: Any) -> str:
            text = arg(node, l2tobj, 0)
            return _scripted(text, _SUB) or text

        def url(node: Any, l2tobj: Any) -> str:
            return arg(node, l2tobj, 0)

        def href(node: Any, l2tobj: Any) -> str:
            return arg(node, l2tobj, -1)

        def ding(node: Any, l2tobj: Any) -> str:
            return _DINGS.get(arg(node, l2tobj, 0).strip(), "")

        def item(node: Any, l2tobj: Any) -> str:
            label = arg(node, l2tobj, 0).strip()
            return f" {label or '•'} "

        walker_specs = [MacroSpec(name, spec) for name, spec in _DROP_WITH_ARGS.items()]
        walker_specs += [MacroSpec(name, spec) for name, spec in _KEEP_ARGS.items()]
        walker_specs += [MacroSpec(name, spec) for name, (spec, _) in _FORMATTED.items()]
        walker_specs.append(MacroSpec("ding", "{"))
        self.walker_db = latexwalker.get_default_latex_context_db()
        self.walker_db.add_context_category("paperfeed", macros=walker_specs, prepend=True)

        text_specs = [MacroTextSpec(name, discard=True) for name in _DROP_WITH_ARGS]
        text_specs += [MacroTextSpec(name, discard=True) for name in _DROP_WORDS]
        text_specs += [
            MacroTextSpec("footnote", simplify_repl=footnote),
            MacroTextSpec("textsuperscript", simplify_repl=superscript),
            MacroTextSpec("textsubscript", simplify_repl=subscript),
            MacroTextSpec("item", simplify_repl=item),
            MacroTextSpec("ding", simplify_repl=ding),
            MacroTextSpec("url", simplify_repl=url),
            MacroTextSpec("href", simplify_repl=href),
            MacroTextSpec("\\", simplify_repl=" "),
            # Bold or upright names (\mathbf{Campfire}) read better as plain letters than
            # as Unicode's mathematical alphabets; \mathbb{R} and \mathcal{O} keep theirs.
            *(MacroTextSpec(name, discard=False) for name in _PLAIN_MATH_FONTS),
            MacroTextSpec("quad", simplify_repl=" "),
            MacroTextSpec("qquad", simplify_repl=" "),
        ]
        text_specs += [MacroTextSpec(name, text) for name, (_, text) in _FORMATTED.items()]
        text_db = l2t_db()
        text_db.add_context_category("paperfeed", macros=text_specs, prepend=True)
        # A macro the converter has no rule for keeps its arguments' text
        # (pylatexenc's default would drop it, and \texttt{X} with it).
        text_db.set_unknown_macro_spec(MacroTextSpec("", discard=False))
        self.to_text = LatexNodes2Text(latex_context=text_db, math_mode="text")
        self.walker_class = latexwalker.LatexWalker

        # How many arguments each macro the parser knows takes, for the scanner.
        self.argspecs: dict[str, str] = {}
        for spec in self.walker_db.iter_macro_specs():
            argspec = getattr(spec.args_parser, "argspec", "") or ""
            self.argspecs.setdefault(spec.macroname, argspec)
        self.known = (
            frozenset(self.argspecs)
            | frozenset(spec.macroname for spec in text_db.iter_macro_specs())
            | {"begin", "end"}
        )

    def convert(self, latex: str) -> str:
        walker = self.walker_class(latex, latex_context=self.walker_db, tolerant_parsing=True)
        nodes = walker.get_latex_nodes()[0]
        return str(self.to_text.nodelist_to_text(nodes))


@functools.cache
def _engine() -> _Engine:
    return _Engine()


# --- the regex fallback -----------------------------------------------------------------
_FB_DROP = re.compile(  # macros whose (first) argument is not text
    r"\\(?:cite[a-z]*|[Cc]ite[tp]?|[a-z]*ref|label|color|textcolor|colorbox|definecolor|"
    r"hspace|vspace|includegraphics|usepackage|begin|end)\*?\s*(?:\[[^\]]*\]\s*)*"
    r"(?:\{[^{}]*\}\s*)?"
)
_MACRO_NAME = re.compile(r"\\[A-Za-z]+")
_FB_HREF = re.compile(r"\\href\s*\{[^{}]*\}")
_FB_ESCAPED = re.compile(r"\\([%&#_${}])")
_FB_MACRO = re.compile(r"\\(?:([A-Za-z]+)\*?|.|$)(?=(\s*\{)?)", re.DOTALL)
_FB_DOLLARS = re.compile(r"\$\$?([^$]+?)\$?\$")
_PLAIN = re.compile(r"(?<!-)---(?!-)|(?<!-)--(?!-)|``|''|~")
_PLAIN_MAP = {"---": "—", "--": "–", "``": "“", "''": "”", "~": " "}


def _plain(text: str) -> str:
    """Prose between LaTeX islands: only dashes, quotes and ties change."""
    return _PLAIN.sub(lambda m: _PLAIN_MAP[m.group()], text)


def _fallback_macro(m: re.Match[str]) -> str:
    """\\textbf{x} and \\em go, \\alpha and \\method leave their name."""
    name, argument = m.groups()
    if name is None or argument is not None or name in _DROP_WORD_SET:
        return ""
    return _WORDS.get(name, name)


def _regex_clean(text: str) -> str:
    """The crude cleaner pylatexenc falls back on: strip markup, keep every word."""
    text = _FB_DROP.sub("", text)
    text = _FB_HREF.sub("", text)
    text = _FB_ESCAPED.sub(lambda m: _lit(m.group(1)), text)
    text = _FB_DOLLARS.sub(r"\1", text)
    text = _FB_MACRO.sub(_fallback_macro, text)
    text = text.replace("{", "").replace("}", "")
    return _plain(text)


def _alnum_count(text: str) -> int:
    return len(_ALNUM.findall(text))


# --- islands --------------------------------------------------------------------------------
_SCRIPT = re.compile(
    r"(\\[A-Za-z]+)?([\^_])\s*"
    r"(?:\{\s*((?:[^{}\\]|\\[A-Za-z]+)*?)\s*\}|(\\[A-Za-z]+)|([A-Za-z0-9+\-=()*']))"
)


def _script_sub(m: re.Match[str]) -> str:
    before, kind, group, macro, char = m.groups()
    body = group if group is not None else macro if macro is not None else char
    if kind == "^":
        converted = _SUP_SPECIAL.get(body.replace(" ", "")) or _scripted(body, _SUP)
    else:
        converted = _scripted(body, _SUB)
    if converted is None:
        return m.group(0)
    # pylatexenc reads any letter as part of a macro name: \sumⱼ would be one macro
    return converted if before is None else before + "{}" + converted


@functools.lru_cache(maxsize=8192)
def _render(island: str) -> str:
    """One LaTeX island as text, through pylatexenc, guarded by the regex cleaner."""
    if len(island) > _MAX_ISLAND:
        return _regex_clean(island)
    latex = island
    if island.startswith(("$", "\\(", "\\[", "\\begin")) and ("^" in latex or "_" in latex):
        latex = _SCRIPT.sub(_script_sub, latex)
    try:
        text = _engine().convert(latex)
    except Exception:  # pylatexenc on broken input: anything can happen
        return _regex_clean(island)
    stripped = text.strip()
    if stripped and all(unicodedata.combining(char) for char in stripped):
        return ""  # an accent with nothing to sit on (a lone \' or \")
    reference = _alnum_count(_MACRO_NAME.sub("", _FB_DROP.sub("", island)))
    if reference >= 8 and 2 * _alnum_count(text) < reference:
        return _regex_clean(island)
    return text


# --- the pre-pass -----------------------------------------------------------------------
_DOUBLE_ESCAPE = re.compile(r"\\\\(?=[A-Za-z%&#_$])")
_URL_MACRO = re.compile(r"\\url\s*\{([^{}]*)\}")
_HREF = re.compile(r"\\href\s*(?:\[[^\]]*\])?\s*\{([^{}]*)\}(\s*\{)?")
_BARE_URL = re.compile(r"(?:https?|ftp)://[^\s{}\\$\"<>]+")
_UNICODE = re.compile(r"\\unicode\s*\{\s*(x|0x|U\+|u)?([0-9A-Fa-f]+)\s*\}")
_CHAR = re.compile(r"\\char(?![A-Za-z])\s*(?:\"([0-9A-Fa-f]+)|'([0-7]+)|([0-9]+))")
_BEFORE_CITE = re.compile(  # "generation \cite{a}." reads "generation." without it
    r"(?<!\\)[ \t\r\n~]+(?=\\(?:[Cc]ite[pt]?|citealp|parencite|autocite|footcite)\*?(?![A-Za-z]))"
)
_SPLIT_GREEK = re.compile(r"\\([A-Za-z])\s*\{([A-Za-z]+)\}")
_DEG_AFTER_NUMBER = re.compile(r"(?<=\d)(\s*)\{\\deg\}|(?<=\d)(\s*)\\deg(?![A-Za-z])(?:\{\})?")
_SIZING = re.compile(  # \left( \bigr] \middle| and the null delimiter \right.
    r"\\(?:left|right|middle|[Bb]igg?[lrm]?)(?![A-Za-z])\s*\.?"
)
_SPACING = re.compile(
    r"\\(?:mkern|kern|mskip|hskip|vskip)(?![A-Za-z])\s*-?[\d.]*\s*(?:mu|pt|em|ex|mm|cm|in)?"
)
_ACCENT_WORDS = frozenset(["b", "c", "d", "H", "k", "r", "t", "u", "v"])
_ACCENTABLE = re.compile(r"\s*(?:[^\W_]|\{|\\[A-Za-z])")  # not "\' <" nor "\'\'"
_ARGUMENT = re.compile(r"\s*(?:[^\W_]|[{\[*]|\\[A-Za-z])")
_TOKEN = re.compile(r"\\(?:([A-Za-z]+)(\s*\{\})?|(.)|\Z)|([~%&#])", re.DOTALL)


def _codepoint(number: int) -> str:
    if not 0 < number <= 0x10FFFF:
        return ""
    char = chr(number)
    if not (char.isprintable() or char.isspace()) or 0xD800 <= number <= 0xDFFF:
        return ""
    return _lit(char)


def _unicode_sub(m: re.Match[str]) -> str:
    prefix, digits = m.groups()
    hexadecimal = prefix is not None or not digits.isdigit()
    return _codepoint(int(digits, 16 if hexadecimal else 10))


def _char_sub(m: re.Match[str]) -> str:
    hexa, octal, decimal = m.groups()
    if hexa is not None:
        return _codepoint(int(hexa, 16))
    if octal is not None:
        return _codepoint(int(octal, 8))
    return _codepoint(int(decimal))


def _greek_sub(m: re.Match[str]) -> str:
    name = m.group(1) + m.group(2)
    return "{\\" + name + "}" if name in _GREEK else m.group(0)


def _href_sub(m: re.Match[str]) -> str:
    return "{" if m.group(2) is not None else _lit(m.group(1))


def _token_sub(m: re.Match[str], engine: _Engine) -> str:
    name, empty_group, symbol, char = m.groups()
    text, start, end = m.string, m.start(), m.end()
    if name in _ACCENT_WORDS and not text.startswith("{", end):
        return ""  # "\b geometric": an underbar accent nobody meant; \v{s} is kept
    if symbol is not None and symbol in "'\"^`~=." and not _ACCENTABLE.match(text, end):
        return ""  # an accent on nothing, or on "<": "\' <b>" must not eat the "<"
    if name is not None:
        if name in engine.known:
            if engine.argspecs.get(name, "").lstrip("*[").startswith("{") and not (
                _ARGUMENT.match(text, end)
            ):
                return ""  # "\frac <b>": a macro with nothing to take as its argument
            return m.group(0)
        if name not in _WORDS and empty_group is None and text.startswith("{", end):
            return ""  # \unknownmacro{arg}: the argument is the text
        # An author's own macro (\method, \ours{}): its name is the best guess at what
        # it printed. Braced after a letter, which pylatexenc would take into a
        # preceding macro's name (\alpha\eg -> \alphae.g.).
        word = _WORDS.get(name, name)
        return "{" + word + "}" if start and text[start - 1].isalpha() else word
    if symbol is not None:
        if symbol in "%&#_${}":
            return _lit(symbol)
        if symbol in " \t\n\r,;:>":
            return " "
        if symbol in "!-/@":
            return ""
        return m.group(0)
    if char is not None:
        if char != "~":
            return _lit(char)
        # "~" is a LaTeX tie (Fig.~3) between two words, but "approximately" in
        # prose (~50%, (~2x), "a ~ b") and part of a path in URLs (/~user).
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if before.isspace() or before in "([/~" or after.isspace():
            return _lit("~")
        return "~"
    return ""  # a trailing backslash


def _prepass(text: str, engine: _Engine) -> str:
    if "\\" in text:
        text = _DOUBLE_ESCAPE.sub(r"\\", text)
        if "\\url" in text:
            text = _URL_MACRO.sub(lambda m: _lit(m.group(1)), text)
        if "\\href" in text:
            text = _HREF.sub(_href_sub, text)
        if "\\unicode" in text:
            text = _UNICODE.sub(_unicode_sub, text)
        if "\\char" in text:
            text = _CHAR.sub(_char_sub, text)
        if "\\deg" in text:
            text = _DEG_AFTER_NUMBER.sub(lambda m: (m.group(1) or m.group(2) or "") + "°", text)
        if "cite" in text:
            text = _BEFORE_CITE.sub("", text)
        text = _SPLIT_GREEK.sub(_greek_sub, text)
        text = _SIZING.sub("", text)
        text = _SPACING.sub(" ", text)
    if "://" in text:
        text = _BARE_URL.sub(lambda m: _lit(m.group()), text)
    return _TOKEN.sub(lambda m: _token_sub(m, engine), text)


# --- the scanner ------------------------------------------------------------------------
_SPECIAL = re.compile(r"[\\{}$]")
_CONTROL = re.compile(r"\\([A-Za-z]+\*?|.)?", re.DOTALL)
_BRACE_TOKENS = re.compile(r"\\.|[{}]", re.DOTALL)
_ENV_NAME = re.compile(r"\s*\{([^{}\\]{0,80})\}")
_BLANK_LINE = re.compile(r"\n\s*\n")
_MATHY = re.compile(r"[\\^_{]")
_DIGIT = re.compile(r"\d")


def _is_math(content: str, following: str) -> bool:
    """Whether the text between two dollar signs is math rather than prose with money.

    Pandoc's rule (no space inside the dollars, no digit right after the closing one)
    tells "$x$" from "costs $5 and $10", but arXiv authors write for MathJax, which
    also takes "$ 4.8$%", "$ T $" and "$\\sim$50%". Real LaTeX (a backslash, a brace,
    a sub- or superscript) earns that tolerance; bare content stays short and tight.
    """
    stripped = content.strip()
    if not stripped:
        return False
    mathy = _MATHY.search(content) is not None
    if not mathy and len(content) > 40:
        return False
    if content[-1].isspace() and not mathy and _DIGIT.search(content):
        return False  # "$5 to $10": the second dollar opens, it does not close
    if following.isdigit():  # "US$5 and US$10" is money, "$>$3%" is not
        return mathy or (len(stripped) <= 3 and not _DIGIT.search(stripped))
    return True


class _Scanner:
    """Cuts pre-passed text into prose and LaTeX islands, rendering as it goes."""

    def __init__(self, text: str, argspecs: dict[str, str]) -> None:
        self.text = text
        self.argspecs = argspecs
        self.out: list[str] = []
        self.braces = self._match_braces(text) if "{" in text else {}
        # needle -> (searched from, found at or -1): keeps repeated searches linear
        self._found: dict[str, tuple[int, int]] = {}

    @staticmethod
    def _match_braces(text: str) -> dict[int, int]:
        pairs: dict[int, int] = {}
        stack: list[int] = []
        for m in _BRACE_TOKENS.finditer(text):
            token = m.group()
            if token == "{":
                stack.append(m.start())
            elif token == "}" and stack:
                pairs[stack.pop()] = m.start()
        return pairs

    def _find(self, needle: str, start: int) -> int:
        memo = self._found.get(needle)
        if memo is not None and start >= memo[0] and (memo[1] == -1 or memo[1] >= start):
            return memo[1]
        found = self.text.find(needle, start)
        self._found[needle] = (start, found)
        return found

    def run(self) -> str:
        text, n, i = self.text, len(self.text), 0
        while i < n:
            m = _SPECIAL.search(text, i)
            if m is None:
                self.out.append(_plain(text[i:]))
                break
            j = m.start()
            if j > i:
                self.out.append(_plain(text[i:j]))
            char = text[j]
            if char == "{":
                close = self.braces.get(j)
                if close is None:  # unbalanced: drop the brace, keep the text
                    i = j + 1
                else:
                    self.out.append(_render(text[j : close + 1]))
                    i = close + 1
            elif char == "}":
                i = j + 1
            elif char == "$":
                i = self._dollar(j)
            else:
                i = self._macro(j)
        return "".join(self.out)

    def _dollar(self, j: int) -> int:
        text = self.text
        if text.startswith("$$", j):
            close = self._find("$$", j + 2)
            if close != -1 and close - j <= _MAX_MATH and text[j + 2 : close].strip():
                self.out.append(_render(text[j : close + 2]))
                return close + 2
            self.out.append("$$")
            return j + 2
        close = self._find("$", j + 1)
        if (
            close != -1
            and close - j <= _MAX_MATH
            and _is_math(text[j + 1 : close], text[close + 1 : close + 2])
            and not _BLANK_LINE.search(text, j, close)
        ):
            self.out.append(_render(text[j : close + 1]))
            return close + 1
        self.out.append("$")  # an unmatched dollar is a dollar
        return j + 1

    def _macro(self, j: int) -> int:
        text = self.text
        m = _CONTROL.match(text, j)
        assert m is not None  # the pattern always matches at a backslash
        name, end = m.group(1), m.end()
        if name is None:  # trailing backslash
            return end
        if name == "\\":
            self.out.append(" ")
            return end
        if name in ("(", "["):
            needle = "\\)" if name == "(" else "\\]"
            close = self._find(needle, end)
            if close != -1 and close - j <= _MAX_MATH:
                self.out.append(_render(text[j : close + 2]))
                return close + 2
            return end
        if name in (")", "]"):
            return end
        if name in ("begin", "end"):
            env = _ENV_NAME.match(text, end)
            if env is None:
                return end
            if name == "end":  # an \end without its \begin
                return env.end()
            needle = "\\end{" + env.group(1) + "}"
            close = self._find(needle, env.end())
            if close == -1:  # a \begin without its \end: drop it, keep what follows
                return env.end()
            self.out.append(_render(text[j : close + len(needle)]))
            return close + len(needle)
        end = self._arguments(self.argspecs.get(name.rstrip("*"), ""), end)
        self.out.append(_render(text[j:end]))
        return end

    def _arguments(self, argspec: str, k: int) -> int:
        """Where a macro's arguments, as its argspec describes them, end."""
        text, n = self.text, len(self.text)
        for kind in argspec:
            p = k
            while p < n and text[p] in " \t\n\r":
                p += 1
            if p >= n:
                break
            if kind == "*":
                if text[p] == "*":
                    k = p + 1
            elif kind == "[":
                if text[p] == "[":
                    bracket = text.find("]", p, p + 200)
                    if bracket != -1:
                        k = bracket + 1
            elif text[p] == "{":
                close = self.braces.get(p)
                if close is None:
                    break
                k = close + 1
            elif text[p] == "\\":
                control = _CONTROL.match(text, p)
                if control is None or control.group(1) is None:
                    break
                k = control.end()
            elif text[p].isalnum():  # \'e, \frac12: one character is an argument too
                k = p + 1
            else:  # "\' <b>" is no accent on "<", whatever TeX would say
                break
        return k


# --- the public function --------------------------------------------------------------------
def _convert(text: str) -> str:
    engine = _engine()
    prepared = _prepass(text, engine)
    return _Scanner(prepared, engine.argspecs).run()


def _normalise(text: str) -> str:
    return " ".join(text.split())  # str.split() splits on what \s matches, and faster


@functools.lru_cache(maxsize=8192)
def clean_latex(text: str) -> str:
    r"""`text` (a title or an abstract) with its LaTeX turned into plain Unicode text.

    ``$\alpha$-divergence`` becomes ``α-divergence``, ``\textbf{fast}`` ``fast``,
    ``95\% accuracy`` ``95% accuracy``; a bare ``%`` or an unmatched ``$`` stays as
    written; whitespace runs (arXiv wraps abstracts at 80 columns) become one space.
    Never raises. The output is text, not HTML: escape it when rendering.
    """
    if not any(trigger in text for trigger in _TRIGGERS):  # substring tests beat a regex
        return _normalise(text)
    if _PLACEHOLDER_RE.search(text):  # our own placeholders must not be forged
        text = _PLACEHOLDER_RE.sub("\ufffd", text)
    try:
        result = _convert(text)
    except Exception:  # a bug here must cost formatting, never the abstract
        result = _regex_clean(text)
    if result and max(result) >= _FIRST_PLACEHOLDER:  # max() is far cheaper than translate
        result = result.translate(_RESTORE)
    return _normalise(result)
