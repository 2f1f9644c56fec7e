"""`paperfeed digest send` end to end through Typer's runner."""

from __future__ import annotations

import json
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from paperfeed.catalog import Catalog
from paperfeed.cli.app import main_options
from paperfeed.cli.digest import digest_app
from tests.digest.conftest import Smtp, Users

runner = CliRunner()


def _app() -> typer.Typer:
    # Wired as cli/app.py will do it: `app.add_typer(digest_app, name="digest")`.
    root = typer.Typer()
    root.callback()(main_options)
    root.add_typer(digest_app, name="digest")
    return root


@pytest.fixture
def no_ranker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ranker missing (or broken): the command falls back to the newest papers."""
    monkeypatch.setitem(sys.modules, "paperfeed.rank.feed", None)


def test_dry_run_prints_a_line_a_user_and_writes_eml(catalog: Catalog, users: Users,
                                                     no_ranker: None, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERFEED_SMTP_URL", raising=False)
    data = str(catalog.store.data_dir)
    out = tmp_path / "dry"
    result = runner.invoke(_app(), ["--data-dir", data, "digest", "send", "--dry-run", str(out),
                                    "--now", "2025-03-18T07:00", "--base-url",
                                    "https://papers.example.org", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "personal ranker is unavailable" in result.output
    lines = result.output.splitlines()
    for address in ("alice@example.org", "bob@example.org", "carol@example.org"):
        [line] = [x for x in lines if address in x]
        assert line.startswith("dry-run") and "2025-03-18" in line and "3 papers" in line
    assert "3 dry-run" in lines[-1] and str(out) in lines[-1]
    files = sorted(out.glob("*.eml"))
    assert len(files) == 3
    mail = message_from_bytes(files[0].read_bytes())
    assert mail["List-Unsubscribe"].startswith("<https://papers.example.org/unsubscribe?token=")
    # JSON for scripts; and the dry run can be repeated.
    again = runner.invoke(_app(), ["--data-dir", data, "digest", "send", "--dry-run", str(out),
                                   "--now", "2025-03-18", "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["counts"]["dry-run"] == 3 and len(report["outcomes"]) == 3


def test_send_through_smtp_then_skip(catalog: Catalog, users: Users, smtp: Smtp,
                                     no_ranker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}")
    monkeypatch.setenv("PAPERFEED_MAIL_FROM", "paperfeed <feed@example.org>")
    args = ["--data-dir", str(catalog.store.data_dir), "digest", "send",
            "--now", "2025-03-18T07:00+00:00"]
    first = runner.invoke(_app(), args)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[-1].startswith("3 sent, 0 skipped")
    assert len(smtp.inbox.messages) == 3
    second = runner.invoke(_app(), args)
    assert second.exit_code == 0 and "0 sent, 3 skipped" in second.output
    assert "already sent" in second.output and len(smtp.inbox.messages) == 3


def test_a_failed_send_exits_1_and_bad_options_exit_2(catalog: Catalog, users: Users,
                                                      no_ranker: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_URL", "smtp://127.0.0.1:1")
    data = str(catalog.store.data_dir)
    failed = runner.invoke(_app(), ["--data-dir", data, "digest", "send", "--now", "2025-03-18"])
    assert failed.exit_code == 1 and "failed" in failed.output
    bad_now = runner.invoke(_app(), ["--data-dir", data, "digest", "send", "--now", "Tuesday"])
    assert bad_now.exit_code == 2 and "not an ISO date" in bad_now.output
    bad_url = runner.invoke(_app(), ["--data-dir", data, "digest", "send", "--base-url", "ftp://x"])
    assert bad_url.exit_code == 1 and "base URL" in bad_url.output
    assert "Traceback" not in failed.output + bad_now.output + bad_url.output


def test_the_commands_have_help() -> None:
    from typer.main import get_command

    group = get_command(_app()).commands["digest"]  # type: ignore[attr-defined]
    assert group.help and set(group.commands) == {"send"}
    for name, command in group.commands.items():
        assert command.help, f"digest {name} has no help text"
    usage = runner.invoke(_app(), ["digest", "send", "--help"])
    assert usage.exit_code == 0 and "--dry-run" in usage.output
