"""Importing a user's publication list: the upload becomes a queued job, run off the web.

The job reads the file with the upload caps and hands its papers to the onboarding use
case (`application.onboarding.import_papers`: stored as the user's claims, indexed,
carded, added to the profile or library), reporting its progress on the job. Running
it twice is harmless, so a job cut off by a restart simply runs again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from paperfeed.application.onboarding import (
    TARGETS,
    UploadError,
    import_papers,
    read_publication_list,
)
from paperfeed.application.progress import Advance, Step
from paperfeed.catalog import Catalog
from paperfeed.jobs.runner import Progress
from paperfeed.settings import MAX_UPLOAD_BYTES
from paperfeed.sources.limits import UPLOAD_LIMITS, InputLimits
from paperfeed.store.jobs import JobInfo, JobStore
from paperfeed.store.limits import RateLimits
from paperfeed.store.personal import clean_tags

IMPORT = "import"
MAX_ACTIVE = 2  # imports of one user queued or running at once
IMPORTS_PER_HOUR = 20


def queue_import(store_jobs: JobStore, user_id: int, name: str, content: bytes, *,
                 target: str = "profile", tags: Sequence[str] = (), author: str | None = None,
                 max_bytes: int = MAX_UPLOAD_BYTES) -> JobInfo:
    """Check an upload and queue its import; the job runner does the work."""
    if target not in TARGETS:
        raise UploadError(f"target: expected one of {', '.join(TARGETS)}, got {target!r}")
    if not content.strip():
        raise UploadError("paste a list or choose a file first")
    if len(content) > max_bytes:
        raise UploadError(f"{name}: larger than the {max_bytes // (1024 * 1024)} MB an upload "
                           "may have")
    if store_jobs.active_count(user_id) >= MAX_ACTIVE:
        raise UploadError(f"you have {MAX_ACTIVE} imports under way already: wait until one "
                           "is done")
    hit = RateLimits(store_jobs.store).hit(f"import:user:{user_id}", limit=IMPORTS_PER_HOUR,
                                           window=timedelta(hours=1))
    if not hit.allowed:
        raise UploadError(f"at most {IMPORTS_PER_HOUR} imports an hour: try again in "
                           f"{-(-hit.retry_after // 60)} minutes")
    payload: dict[str, Any] = {"target": target, "tags": list(clean_tags(tags)),
                               "author": (author or "")[:200]}
    return store_jobs.create(IMPORT, user_id=user_id, payload=payload, upload=(name, content))


def upload_limits() -> InputLimits:
    """The caps on an upload: `UPLOAD_LIMITS` (500 papers, 32 MiB inflated ...), each
    changeable with its PAPERFEED_UPLOAD_* variable."""
    return InputLimits.from_env(base=UPLOAD_LIMITS, prefix="PAPERFEED_UPLOAD_")


class JobProgress:
    """A catch-up's steps as the job's progress: indexing with counts, then cards (the
    vocabulary check that follows is counted with the cards)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextmanager
    def step(self, step: Step) -> Iterator[Advance]:
        if step.kind != "index":
            if step.kind == "cards":
                self.progress({"phase": "cards"})
            yield lambda n: None
            return
        done = [0]

        def indexed(n: int) -> None:
            done[0] += n
            self.progress({"phase": "indexing", "done": done[0], "total": step.total})

        self.progress({"phase": "indexing", "done": 0, "total": step.total})
        yield indexed

    def note(self, message: str) -> None:
        return None


def run_import(catalog: Catalog, job: JobInfo, progress: Progress) -> str:
    """The import job (see the module docstring); returns the message for the user."""
    jobs = JobStore(catalog.store)
    user_id = job.user_id
    if user_id is None:
        raise UploadError("an import belongs to a user")
    progress({"phase": "reading"})
    path = jobs.upload_path(job)
    records = read_publication_list(path, upload_limits(),
                                    name=str(job.payload.get("name") or path.name),
                                    author=job.payload.get("author") or None)
    progress({"phase": "storing", "papers": len(records)})
    outcome = import_papers(
        catalog, user_id, records, target=str(job.payload.get("target") or "profile"),
        tags=[str(t) for t in job.payload.get("tags", [])],
        name=str(job.payload.get("name") or "the upload"), progress=JobProgress(progress))
    progress({"phase": "done", "papers": len(outcome.paper_ids)})
    return outcome.message()
