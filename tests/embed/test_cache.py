"""The derived-model cache: built once, atomic, rebuilt on a new fingerprint or corruption."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from paperfeed.embed.cache import cached_file, model_fingerprint
from paperfeed.errors import ModelUnavailableError


class Builder:
    """Writes `payload` and counts its calls; optionally slow, to widen race windows."""

    def __init__(self, payload: bytes = b"model bytes " * 1000, delay: float = 0.0) -> None:
        self.payload = payload
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> None:
        with self._lock:
            self.calls += 1
        # Written in two halves with a pause between, as a slow export would.
        half = len(self.payload) // 2
        with path.open("wb") as fh:
            fh.write(self.payload[:half])
            fh.flush()
            time.sleep(self.delay)
            fh.write(self.payload[half:])


def test_built_once_then_reused(tmp_path: Path) -> None:
    build = Builder()
    first = cached_file(tmp_path, "m.onnx", "fp-1", build)
    mtime = first.stat().st_mtime_ns
    second = cached_file(tmp_path, "m.onnx", "fp-1", build)
    assert second == first
    assert build.calls == 1
    assert second.stat().st_mtime_ns == mtime
    assert second.read_bytes() == build.payload
    manifest = json.loads((tmp_path / "m.onnx.manifest.json").read_text())
    assert manifest["fingerprint"] == "fp-1"


def test_new_fingerprint_rebuilds(tmp_path: Path) -> None:
    cached_file(tmp_path, "m.onnx", "fp-1", Builder(b"old"))
    build = Builder(b"new")
    path = cached_file(tmp_path, "m.onnx", "fp-2", build)
    assert build.calls == 1
    assert path.read_bytes() == b"new"


@pytest.mark.parametrize("damage", ["truncate", "flip", "no-manifest", "bad-manifest"])
def test_damaged_cache_is_rebuilt(tmp_path: Path, damage: str) -> None:
    build = Builder()
    path = cached_file(tmp_path, "m.onnx", "fp-1", build)
    manifest = tmp_path / "m.onnx.manifest.json"
    if damage == "truncate":
        path.write_bytes(build.payload[:100])
    elif damage == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "no-manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    again = cached_file(tmp_path, "m.onnx", "fp-1", build)
    assert build.calls == 2
    assert again.read_bytes() == build.payload


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def broken(path: Path) -> None:
        path.write_bytes(b"half a model")
        raise RuntimeError("export crashed")

    with pytest.raises(RuntimeError, match="export crashed"):
        cached_file(tmp_path, "m.onnx", "fp-1", broken)
    leftovers = {p.name for p in tmp_path.iterdir()} - {"m.onnx.lock"}
    assert leftovers == set()
    # And the next attempt builds normally.
    build = Builder()
    assert cached_file(tmp_path, "m.onnx", "fp-1", build).read_bytes() == build.payload


def test_concurrent_first_use_builds_once(tmp_path: Path) -> None:
    build = Builder(delay=0.3)
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda _: cached_file(tmp_path, "m.onnx", "fp-1", build), range(4)))
    assert build.calls == 1
    assert len(set(paths)) == 1
    assert paths[0].read_bytes() == build.payload
    assert not list(tmp_path.glob("*.tmp"))


def _fake_model(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 384}')
    (folder / "model.safetensors").write_bytes(b"\x00" * 64)
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_fingerprint_follows_content(tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "m")
    base = model_fingerprint(model)
    assert model_fingerprint(model) == base
    assert model_fingerprint(model, ["recipe-2"]) != base
    copy = _fake_model(tmp_path / "copy")
    assert model_fingerprint(copy) == base  # content, not location
    (model / "model.safetensors").write_bytes(b"\x01" + b"\x00" * 63)
    assert model_fingerprint(model) != base
    changed = model_fingerprint(model)
    (model / "tokenizer.json").write_text('{"lowercase": false}')
    assert model_fingerprint(model) != changed


def test_fingerprint_of_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"config\.json"):
        model_fingerprint(tmp_path)
