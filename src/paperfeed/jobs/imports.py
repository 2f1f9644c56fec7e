"""Importing a user's publication list: the upload becomes a queued job, run off the web.

The job parses the file with the upload caps, stores its papers as the user's claims
(`origin="user:<id>"`: a paper already stored is linked, never rewritten), embeds and
indexes them, gives them their cards, and adds them to the user's profile or library.
Running it twice is harmless, so a job cut off by a restart simply runs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from paperfeed.catalog import Catalog
from paperfeed.errors import PaperfeedError, SourceError
from paperfeed.jobs.runner import Progress
from paperfeed.records import PaperRecord
from paperfeed.settings import MAX_UPLOAD_BYTES
from paperfeed.sources import detect_format, read_records
from paperfeed.sources.limits import UPLOAD_LIMITS, InputLimits
from paperfeed.store.jobs import JobInfo, JobStore
from paperfeed.store.limits import RateLimits
from paperfeed.store.personal import Personal, clean_tags

IMPORT = "import"
TARGETS = ("profile", "library")
MAX_ACTIVE = 2  # imports of one user queued or running at once
IMPORTS_PER_HOUR = 20
INDEX_BATCH = 64  # papers embedded per index commit: searches wait at most one commit


class UploadError(PaperfeedError):
    """An upload that cannot be imported; the message says why, naming the file."""


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


def _read(job: JobInfo, jobs: JobStore) -> list[PaperRecord]:
    path = jobs.upload_path(job)
    name = str(job.payload.get("name") or path.name)
    limits = upload_limits()
    try:
        # The caps are checked as the file streams: a bomb stops within its first KiB.
        records = list(read_records(path, format=detect_format(path, limits=limits),
                                    author=job.payload.get("author") or None, limits=limits))
    except SourceError as exc:
        # The message names the server's copy of the file: show the user's own name.
        raise UploadError(str(exc).replace(str(path), name)) from None
    if not records:
        raise UploadError(f"{name}: no paper found in it")
    return records


def run_import(catalog: Catalog, job: JobInfo, progress: Progress) -> str:
    """The import job (see the module docstring); returns the message for the user."""
    jobs = JobStore(catalog.store)
    user_id = job.user_id
    if user_id is None:
        raise UploadError("an import belongs to a user")
    progress({"phase": "reading"})
    records = _read(job, jobs)
    progress({"phase": "storing", "papers": len(records)})
    report = catalog.ingest_records(records, origin=f"user:{user_id}")
    total = catalog.pending_for_update()
    done = [0]

    def indexed(n: int) -> None:
        done[0] += n
        progress({"phase": "indexing", "done": done[0], "total": total})

    progress({"phase": "indexing", "done": 0, "total": total})
    catalog.update_index(progress=indexed, batch_size=INDEX_BATCH)
    progress({"phase": "cards"})
    catalog.update_cards(workers=1)
    ids = list(dict.fromkeys(i for i in catalog.store.lookup(records) if i is not None))
    personal = Personal(catalog.store)
    name = str(job.payload.get("name") or "the upload")
    known = report.linked + report.merged
    summary = (f"read {len(records)} papers from {name}: {report.ingested} new to the store, "
               f"{known} already in it")
    if job.payload.get("target") == "library":
        tags = [str(t) for t in job.payload.get("tags", [])]
        saved = {x.paper_id: x.tags for x in personal.library(user_id)}
        for paper_id in ids:
            personal.save(user_id, paper_id, [*saved.get(paper_id, ()), *tags])
        progress({"phase": "done", "papers": len(ids)})
        return f"{summary}; {len(ids)} saved to your library"
    added = personal.add_own(user_id, ids)
    progress({"phase": "done", "papers": len(ids)})
    return f"{summary}; {added} added to your profile"
