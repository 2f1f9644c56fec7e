"""`paperfeed account add`: an operator makes an account without the emailed link."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from paperfeed.accounts import Accounts
from paperfeed.cli.app import app
from paperfeed.store import Store

PASSWORD = "an operator's password"


def _add(data_dir: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "paperfeed", "--data-dir", str(data_dir), "account", "add",
           *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_add_reads_the_password_from_stdin_and_the_account_logs_in(tmp_path: Path) -> None:
    done = _add(tmp_path, "Op@Example.org", "--name", "Operator", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "created account 1 for op@example.org" in " ".join(done.stdout.split())
    assert PASSWORD not in done.stdout + done.stderr
    with Store(tmp_path) as store:
        account = Accounts(store).log_in("op@example.org", PASSWORD)
    assert account.name == "Operator"


def test_add_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    short = _add(tmp_path, "op@example.org", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert short.stderr.strip().splitlines() == [
        "error: password: use at least 10 characters"]
    assert _add(tmp_path, "op@example.org", "--password-stdin",
                stdin=PASSWORD + "\n").returncode == 0
    again = _add(tmp_path, "OP@example.org", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "an account with this address exists" in again.stderr


def test_add_asks_for_the_password_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "account", "add",
                                 "twice@example.org"],
                           input=f"{PASSWORD}\nnot the same one\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower()
    with Store(tmp_path) as store:
        assert Accounts(store).log_in("twice@example.org", PASSWORD).email == \
            "twice@example.org"
