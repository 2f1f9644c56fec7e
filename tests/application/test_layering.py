"""The application layer knows no delivery layer: no import (top-level or inside a
function) of the CLI, the web app, the feeds, the worker, Typer, FastAPI or Rich."""

from __future__ import annotations

import ast
from pathlib import Path

import paperfeed.application

FORBIDDEN = ("paperfeed.cli", "paperfeed.web", "paperfeed.feeds", "paperfeed.jobs", "typer",
             "fastapi", "starlette", "rich", "uvicorn")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_application_imports_no_delivery_layer() -> None:
    folder = Path(paperfeed.application.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert len(modules) >= 6
    for module in modules:
        bad = {n for n in _imports(module)
               if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
        assert not bad, f"{module.name} imports {sorted(bad)}"
