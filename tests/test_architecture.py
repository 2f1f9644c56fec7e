"""docs/architecture.md matches the code: its layers are the import-linter contract, it
names every package, and every `module.py:name` it points to exists."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "paperfeed"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _documented_layers() -> list[str]:
    block = DOC.split("<!-- layers:", 1)[1].split("```", 2)[1]
    return [line.strip() for line in block.strip().splitlines()]


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return [str(layer) for layer in layers]


def test_the_documented_layers_are_the_enforced_contract() -> None:
    assert _documented_layers() == _contract_layers()


def test_every_package_and_module_has_a_layer() -> None:
    placed = {name.strip().removeprefix("paperfeed.")
              for line in _contract_layers() for name in line.split("|")}
    present = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    present |= {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert present - placed == set(), "add these to the layers (pyproject.toml and the doc)"
    assert placed - present == set(), "these layers name nothing in src/paperfeed"


def _names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def test_every_code_reference_in_the_doc_exists() -> None:
    refs = re.findall(r"`([a-z_]+/[a-z_/]+\.py)(?::([A-Za-z_.]+))?`", DOC)
    assert len(refs) >= 8, "the request paths name their modules"
    for file, name in refs:
        path = ROOT / file if file.startswith(("tests/", "benchmarks/")) else SRC / file
        assert path.is_file(), f"docs/architecture.md names {file}, which does not exist"
        for part in filter(None, name.split(".")):
            assert part in _names(path), f"docs/architecture.md names {file}:{name}"


def test_every_data_folder_entry_is_named_in_the_code() -> None:
    block = DOC.split("## The data folder", 1)[1].split("```", 2)[1]
    entries = [line.split()[0] for line in block.strip().splitlines()]
    code = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    for entry in entries:
        leaf = entry.rstrip("/").split("/")[-1].replace("job-N", "job-")
        assert leaf in code, f"the data-folder map names {entry}, which no code mentions"
