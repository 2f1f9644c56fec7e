"""The on-disk cache of derived model files (exported and quantised ONNX graphs).

Owns fingerprinting a source model directory and building a derived file at
most once per fingerprint: each file is written to a temporary name and
renamed into place, a manifest beside it records the fingerprint and the
file's own SHA-256, and a file lock serialises concurrent first use. A file
whose hash does not match its manifest (a crash mid-copy, disk corruption, a
hand edit) is rebuilt rather than loaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from filelock import FileLock

from paperfeed.clock import utc_stamp
from paperfeed.errors import ModelUnavailableError
from paperfeed.store.files import atomic_write, read_json, temp_path

# The files whose bytes decide what the model computes: weights, architecture,
# tokenizer and the sentence-transformers pooling/normalisation modules.
FINGERPRINT_FILES = (
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)

LOCK_TIMEOUT_S = 1800.0


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def model_fingerprint(model_dir: Path, extra: Iterable[str] = ()) -> str:
    """SHA-256 over the model's defining files (name and content) and `extra` strings."""
    digest = hashlib.sha256()
    found = False
    for name in FINGERPRINT_FILES:
        path = model_dir / name
        if path.is_file():
            found = True
            digest.update(name.encode() + b"\0" + _sha256(path).encode() + b"\0")
    if not found:
        raise ModelUnavailableError(f"{model_dir}: none of {', '.join(FINGERPRINT_FILES)} found")
    for item in extra:
        digest.update(b"extra\0" + item.encode() + b"\0")
    return digest.hexdigest()


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _is_valid(path: Path, fingerprint: str) -> bool:
    manifest = _manifest_path(path)
    if not (path.is_file() and manifest.is_file()):
        return False
    try:
        recorded = read_json(manifest)
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("fingerprint") != fingerprint:
        return False
    return bool(recorded.get("sha256") == _sha256(path))


def cached_file(
    cache_dir: Path,
    name: str,
    fingerprint: str,
    build: Callable[[Path], None],
    *,
    info: dict[str, str] | None = None,
) -> Path:
    """The path of `cache_dir/name`, built by `build(tmp_path)` unless a valid copy exists.

    `build` writes the whole file to the path it is given; that file is then
    renamed into place, so readers only ever see a complete file. `name` should
    carry (part of) the fingerprint so that files of different models coexist.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / name
    if _is_valid(path, fingerprint):
        return path
    # Only one process builds; the others wait here and then find it valid.
    with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
        if _is_valid(path, fingerprint):
            return path
        # Readable by other users (DEFAULT_MODE): a server may run as another account.
        with temp_path(path) as tmp:
            build(tmp)
            sha = _sha256(tmp)
            # The old manifest goes first: a crash between the two renames then
            # leaves a file without a manifest, which is rebuilt, never trusted.
            _manifest_path(path).unlink(missing_ok=True)
        manifest = {
            "file": name,
            "fingerprint": fingerprint,
            "sha256": sha,
            "created": utc_stamp(),
            **(info or {}),
        }
        atomic_write(_manifest_path(path), json.dumps(manifest, indent=2) + "\n")
    return path
