"""The one atomic write: whole content after the replace, nothing left on error, modes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from paperfeed.store.files import (
    DEFAULT_MODE,
    append_durably,
    atomic_replace,
    atomic_write,
    read_json,
    temp_path,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_the_whole_content(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("old content that is longer than the new one")
    assert atomic_write(path, "new") is True
    assert path.read_text() == "new"
    atomic_write(path, b"\x00bytes\xff")
    assert path.read_bytes() == b"\x00bytes\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_atomic_write_honours_the_mode(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    atomic_write(secret, "s3cret", mode=0o600)
    assert _mode(secret) == 0o600
    shared = tmp_path / "vocabulary.npz"
    atomic_write(shared, b"x")
    assert _mode(shared) == DEFAULT_MODE
    atomic_write(shared, b"y", mode=0o640)
    assert _mode(shared) == 0o640


def test_atomic_write_without_overwrite_keeps_the_first_file(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    assert atomic_write(path, "first", mode=0o600, overwrite=False) is True
    assert atomic_write(path, "second", mode=0o600, overwrite=False) is False
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "index.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        atomic_write(path, 42)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]


def test_a_write_into_a_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "gone" / "file", "x")
    assert list(tmp_path.iterdir()) == []


def test_temp_path_puts_a_library_written_file_in_place(tmp_path: Path) -> None:
    path = tmp_path / "vectors.usearch"
    path.write_bytes(b"old graph")
    with temp_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp != path
        tmp.write_bytes(b"new graph")  # what a library's save(path) does
        assert path.read_bytes() == b"old graph"  # not in place before the block ends
    assert path.read_bytes() == b"new graph"
    assert _mode(path) == DEFAULT_MODE
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.usearch"]


def test_temp_path_keeps_the_old_file_when_the_library_fails(tmp_path: Path) -> None:
    path = tmp_path / "model.crfsuite"
    path.write_bytes(b"old model")
    with pytest.raises(RuntimeError), temp_path(path) as tmp:
        tmp.write_bytes(b"half a mod")
        raise RuntimeError("training failed")
    assert path.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.crfsuite"]


def test_atomic_replace_moves_a_finished_file(tmp_path: Path) -> None:
    tmp, path = tmp_path / "x.tmp", tmp_path / "x"
    tmp.write_text("done")
    atomic_replace(tmp, path)
    assert path.read_text() == "done" and not tmp.exists()


def test_processes_racing_to_make_one_file_all_read_the_same(tmp_path: Path) -> None:
    """What the secret key relies on: first writer wins, everyone agrees."""
    path = tmp_path / "secret_key"
    script = (
        "import os, sys\n"
        "from paperfeed.store.files import atomic_write\n"
        "atomic_write(sys.argv[1], os.urandom(8).hex(), mode=0o600, overwrite=False)\n"
        "print(open(sys.argv[1]).read())\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = {p.communicate()[0].strip() for p in procs}
    assert outputs == {path.read_text()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_append_durably_cuts_a_torn_tail_before_adding(tmp_path: Path) -> None:
    path = tmp_path / "rows.bin"
    append_durably(path, b"AAAA", keep=0)
    with path.open("ab") as handle:  # a crash midway through the next append
        handle.write(b"BB")
    append_durably(path, b"CCCC", keep=4)
    assert path.read_bytes() == b"AAAACCCC"


def test_read_json_reads_what_atomic_write_wrote_and_names_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    atomic_write(path, '{"format": 3, "ids": [1, 2]}')
    assert read_json(path) == {"format": 3, "ids": [1, 2]}
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError):
        read_json(path)
