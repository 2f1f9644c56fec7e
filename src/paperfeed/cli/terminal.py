"""What the CLI writes to a terminal: stored text with its control characters made harmless.

Titles, abstracts, author names, cards and harvest states come from files and servers
paperfeed does not control. A title holding `ESC ] 0 ; … BEL` would retitle the
terminal, `ESC [ 2 J` clear it, an OSC 8 sequence plant a link, a C1 `CSI` (U+009B) do
the same on terminals that honour 8-bit controls. `neutralise` is the one function that
turns every such character into a visible, inert one; `SafeConsole` applies it to every
piece of text Rich prints (tables, rules, progress labels, markup), and `json_text`
writes JSON whose bytes carry no control character either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

# C0 controls but tab and newline become their Unicode control pictures (ESC -> U+241B),
# DEL becomes U+2421, and C1 controls (U+0080-U+009F, which have no pictures) U+FFFD.
_NEUTRAL: dict[int, str] = {
    **{c: chr(0x2400 + c) for c in range(0x20) if chr(c) not in "\t\n"},
    0x7F: "\u2421",
    **{c: "\ufffd" for c in range(0x80, 0xA0)},
}
# In JSON, C0 controls are always \u-escaped by json.dumps; DEL and C1 are not.
_JSON_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0))}


def neutralise(text: str) -> str:
    """`text` with every control character except tab and newline replaced by a visible,
    inert stand-in (the text is unchanged when it has none)."""
    return text.translate(_NEUTRAL)


def json_text(value: Any) -> str:
    """`value` as indented JSON: non-ASCII text as is, but DEL and C1 controls \\u-escaped,
    so the bytes are safe on a terminal and parse back to exactly the same data."""
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return text.translate(_JSON_ESCAPES)


class SafeConsole(Console):
    """A Rich console that neutralises control characters in everything it renders.

    Strings are neutralised before Rich lays them out (`render_str`: tables, rules,
    markup), so column widths count the stand-ins; `render` catches the rest, such as
    `Text` built by hand. Rich's own cursor and style codes are not text segments
    (`Segment.control`, or added when the segments are written), so they pass. Rich
    itself strips only BEL, BS, VT, FF and CR, not ESC or C1.
    """

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(neutralise(text), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None
               ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not segment.text:
                yield segment
            else:
                clean = neutralise(segment.text)
                yield segment if clean == segment.text else Segment(clean, segment.style)
