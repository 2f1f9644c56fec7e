"""`paperfeed account ...`: accounts made by the operator, for a server without mail.

A thin layer over `paperfeed.accounts`: `add` creates an account at once (no emailed
link), with the password typed twice at a hidden prompt or read from standard input.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from paperfeed.cli.common import console, handle_errors, state

account_app = typer.Typer(
    help="Accounts: make one directly, without the emailed sign-up link.",
    no_args_is_help=True,
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # One line: the trailing newline is not part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@account_app.command("add")
@handle_errors
def add(
    email: Annotated[str, typer.Argument(help="The account's email address (its log-in).")],
    name: Annotated[str, typer.Option("--name", help="Shown on the account page.")] = "",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input "
                                 "instead of prompting (scripts).")] = False,
) -> None:
    """Create an account at once. The password is asked twice (hidden), never taken as an
    argument: a command line is visible to every user of the machine."""
    from paperfeed.accounts import Accounts
    from paperfeed.store import Store

    password = _password(password_stdin)
    with Store(state.data_dir) as store:
        account = Accounts(store).sign_up(email, password, name)
    console.print(f"created account {account.id} for {escape(account.email)}; it can "
                  "log in now", highlight=False, soft_wrap=True)
