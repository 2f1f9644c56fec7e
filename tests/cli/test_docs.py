"""The user guide and the `paperfeed` command agree: every command and sub-command the Typer
app registers has help text and is shown in docs/guide.md, and every `paperfeed ...`
command the guide shows exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from typer.core import TyperGroup
from typer.main import get_command

from paperfeed.cli.app import app

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"
# A command in code: at the start of a code line or span, after a path (/bin/paperfeed),
# a pipe or a cron schedule. The words after it, up to the first option or argument.
COMMAND = re.compile(r"(?:^|[\s/|`])paperfeed((?: [a-z][a-z-]*)+)")


def registered() -> dict[str, Any]:
    """Every command by its full name: "search", "cards build", ... (groups themselves not)."""
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    found: dict[str, Any] = {}
    for name, command in root.commands.items():
        if isinstance(command, TyperGroup):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def code_in(markdown: str) -> list[str]:
    """The guide's code: fenced blocks line by line, and inline `spans`."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.M | re.S)
    return [line for block in blocks for line in block.splitlines()] + re.findall(
        r"`([^`\n]+)`", prose)


def shown_commands(markdown: str, groups: set[str]) -> set[str]:
    """The commands that code in `markdown` runs: "cards build" for a group's command, else
    the first word (the rest is arguments)."""
    shown = set()
    for code in code_in(markdown):
        for match in COMMAND.finditer(code):
            words = match.group(1).split()
            shown.add(" ".join(words[:2]) if words[0] in groups and len(words) > 1
                      else words[0])
    return shown


def test_every_command_and_sub_command_has_help_and_is_in_the_guide() -> None:
    commands = registered()
    assert {"ingest", "search", "serve", "cards build", "digest send",
            "account add"} <= set(commands)
    shown = shown_commands(GUIDE.read_text(encoding="utf-8"),
                           {name.split()[0] for name in commands if " " in name})
    for name, command in commands.items():
        assert command.help, f"paperfeed {name} has no help text"
        assert name in shown, f"paperfeed {name} is not shown in docs/guide.md"


def test_every_command_the_guide_shows_exists() -> None:
    commands = registered()
    groups = {name.split()[0] for name in commands if " " in name}
    unknown = shown_commands(GUIDE.read_text(encoding="utf-8"), groups) - set(commands)
    assert not unknown, f"docs/guide.md shows commands paperfeed does not have: {unknown}"


def test_the_guide_reader_finds_commands_in_code_only() -> None:
    text = ("paperfeed keeps one folder.\n\n```\npaperfeed search x --json\n"
            "0 7 * * *  /v/bin/paperfeed digest send --base-url u\n```\n"
            "Run `paperfeed cards build`, or `printf x | paperfeed account add a@b`.\n")
    assert shown_commands(text, {"cards", "digest", "account"}) == {
        "search", "digest send", "cards build", "account add"}
