"""Shared fixtures: where the real data is, and a fresh data directory per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The throwaway PostgreSQL server and the `database` fixture (SQLite and PostgreSQL runs).
pytest_plugins = ["tests.pg"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message when absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data/{'/'.join(parts)} not found: the real corpora live beside "
                    "the repo (see README); this test needs them")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def shared_file() -> Callable[..., Path]:
    """`shared_file("seeds", "x.txt")`: a path under ../shared/data, skipping when absent."""
    return shared_path


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One exported model for the whole run, whatever data dirs the tests make."""
    import os

    path = tmp_path_factory.mktemp("model-cache")
    old = os.environ.get("PAPERFEED_MODEL_CACHE")
    os.environ["PAPERFEED_MODEL_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("PAPERFEED_MODEL_CACHE", None)
    else:
        os.environ["PAPERFEED_MODEL_CACHE"] = old


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With PAPERFEED_NO_SKIPS=1 (CI), a skipped test fails the run: a skip is not a pass."""
    import os

    if not os.environ.get("PAPERFEED_NO_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reasons = sorted({str(getattr(r, "longrepr", ""))[-160:] for r in skipped})
        print(f"\nerror: {len(skipped)} tests skipped, and PAPERFEED_NO_SKIPS is set:")
        for reason in reasons[:10]:
            print(f"  {reason}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def card_tagger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cards' task/dataset tagger trained once on the real annotated data: the shipped
    recipe without its word clusters (which cost 2-4 min over the 75k corpus) and with fewer
    iterations, so the suite stays quick; the shipped model is measured in benchmarks/."""
    from paperfeed.cards.tagger import TaggerConfig, train_default

    shared_path("scierc")
    shared_path("nlp-tdms-tdmsci")
    path = tmp_path_factory.mktemp("tagger") / "card-tagger.crfsuite"
    train_default(SHARED_DATA, path, config=TaggerConfig(clusters=False, max_iterations=60))
    return path
