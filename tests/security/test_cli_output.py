"""Defect 9: stored text must never reach the terminal with its control characters.

The probe stored a paper whose title and abstract carry terminal escape sequences (a
window-title OSC, a screen clear, an OSC 8 link, a C1 CSI) and ran `paperfeed search`:
the sequences came out verbatim. Here the real CLI runs in a subprocess over a real store
holding such a paper (and such a card and harvest state), for every command that prints
stored text, plain, `--json`, and with colour forced as on a terminal.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paperfeed.cards.model import Card, Result
from paperfeed.catalog import Catalog

HOSTILE_ID = "2503.99001"
TITLE = ("Evil \x1b]0;pwned\x07 tracking \x1b[2J title \x1b]8;;http://evil.example/\x1b\\"
         "click\x1b]8;;\x1b\\ end \x9b31m red")
ABSTRACT = ("We track objects. \x1b[2J\x1b[H Abstract with \x1b]0;pwned\x07 sequences and "
            "\x9b1;1H C1 CSI, \x1bP device control \x1b\\ \x90 DCS, \x7f and bell \x07 tracking.")
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def hostile_store(security_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-output") / "data"
    shutil.copytree(security_store, data)
    listing = data.parent / "hostile.jsonl"
    listing.write_text(json.dumps({
        "id": HOSTILE_ID, "title": TITLE, "abstract": ABSTRACT,
        "authors": ["Eve \x1b[31mRed\x1b[0m Hacker", "Mallory \x9b2J"],
        "categories": ["cs.CV"], "comment": "comment \x9b2J \x85 with C1",
        "first_seen_listing_date": "2025-03-20",
        "abs": f"https://arxiv.org/abs/{HOSTILE_ID}", "pdf": f"https://arxiv.org/pdf/{HOSTILE_ID}",
    }) + "\n")
    with Catalog(data) as catalog:
        report = catalog.ingest_file(listing)
        assert report.error is None and report.report.ingested == 1, report
        catalog.update_index()
        paper = catalog.find(HOSTILE_ID)
        card = Card(name="Evil\x1b[2JNet", kind="method", tasks=("tracking \x1b]0;pwned\x07",),
                    datasets=("LaSOT\x9b2J",), code_urls=(),
                    results=(Result(value="66.1%\x1b[2J", claim="AUC \x1b]0;pwned\x07",
                                    sentence="We reach 66.1% \x9b1;1H on LaSOT."),),
                    version=catalog.card_maker.version)
        catalog.cards.save([(paper.id, paper.revision, card)])
        catalog.store.save("oai:hostile", {"note": "\x1b]0;pwned\x07 \x9b2J"})
    return data


def paperfeed(data: Path, *args: str, color: bool = False) -> tuple[str, str]:
    """Run the real CLI; its stdout and stderr as text (exit code must be 0 or 7)."""
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    if color:
        env["FORCE_COLOR"] = "1"
    else:
        env.pop("FORCE_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "paperfeed", "--data-dir", str(data), *args],
                          capture_output=True, env=env, timeout=300)
    assert done.returncode in (0, 7), (args, done.returncode, done.stderr[-2000:])
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def strings(value: object) -> list[str]:
    """Every string in parsed JSON."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


COMMANDS = [
    ("search", "tracking", "-k", "80"),
    ("search", "tracking has:results", "-k", "80"),
    ("search", "tracking", "-k", "80", "--json"),
    ("related", HOSTILE_ID, "-k", "5"),
    ("related", HOSTILE_ID, "-k", "5", "--json"),
    ("show", HOSTILE_ID),
    ("show", HOSTILE_ID, "--json"),
    ("stats",),
    ("cards", "datasets", "LaSOT"),
    ("cards", "tasks", "tracking"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_no_control_character_from_the_store_reaches_the_terminal(hostile_store: Path,
                                                                  args: tuple[str, ...]) -> None:
    out, err = paperfeed(hostile_store, *args)
    assert CONTROLS.findall(out) == [], out[:3000]
    assert CONTROLS.findall(err) == [], err[:3000]
    # The hostile paper (or card, or checkpoint) was printed: the test is not vacuous.
    assert "pwned" in out or "LaSOT" in out, out[:3000]
    if "--json" in args:
        # The same data once parsed: JSON escapes the characters, it does not drop them.
        assert any("\x1b]0;pwned\x07" in text for text in strings(json.loads(out)))


@pytest.mark.parametrize("args", [("search", "tracking", "-k", "80"), ("show", HOSTILE_ID),
                                  ("related", HOSTILE_ID, "-k", "5")],
                         ids=lambda a: a[0])
def test_with_colour_only_rich_style_codes_are_written(hostile_store: Path,
                                                       args: tuple[str, ...]) -> None:
    out, err = paperfeed(hostile_store, *args, color=True)
    assert SGR.search(out), "FORCE_COLOR should make Rich style the output"
    assert CONTROLS.findall(SGR.sub("", out)) == [], out[:3000]
    assert CONTROLS.findall(SGR.sub("", err)) == [], err[:3000]
    assert "pwned" in out


def test_an_error_echoing_hostile_input_is_neutralised(hostile_store: Path) -> None:
    out, err = paperfeed(hostile_store, "show", "\x1b]0;pwned\x07x\x9b2J")
    assert "no paper matches" in err
    assert CONTROLS.findall(err) == [] and CONTROLS.findall(out) == [], err
