"""Uploading a publication list: to the profile (onboarding) or to the library.

The request only checks the form and queues a job (`paperfeed.jobs`); parsing,
embedding and cards run in the server's job thread, so the server keeps answering
while a 2 MB list is imported. The pages follow the job's progress; the JSON API
shows a user their own jobs and nobody else's.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from paperfeed.accounts import Account
from paperfeed.jobs import JobRunner, UploadError, queue_import
from paperfeed.settings import Settings
from paperfeed.store.jobs import ACTIVE, JobInfo, JobStore
from paperfeed.web import schemas as s
from paperfeed.web.deps import LoggedIn, OptionalUser, require_user, views_of
from paperfeed.web.forms import check_csrf
from paperfeed.web.responses import SafeJSONResponse

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["imports"], default_response_class=SafeJSONResponse)
# Where each import form sends the browser back to, and the page's name for errors.
RETURN = {"profile": "/onboarding", "library": "/library"}


def job_store(request: Request) -> JobStore:
    return JobStore(views_of(request).catalog.store)


def job_out(job: JobInfo) -> s.JobOut:
    return s.JobOut.model_validate({
        "id": job.id, "kind": job.kind, "state": job.state,
        "name": str(job.payload.get("name") or ""),
        "target": str(job.payload.get("target") or ""), "progress": job.progress,
        "message": job.message, "created_at": job.created_at, "finished_at": job.finished_at})


async def _upload(request: Request, who: Account | None, target: str) -> Response:
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_bytes
    try:
        # Starlette keeps a text field to 1 MiB unless told: the page promises 2 MB.
        form = await request.form(max_files=1, max_fields=10, max_part_size=limit)
    except (MultiPartException, StarletteHTTPException) as exc:
        detail = str(getattr(exc, "message", None) or getattr(exc, "detail", exc))
        if "maximum size" in detail:
            raise HTTPException(413, f"the pasted list is larger than the "
                                     f"{limit // (1024 * 1024)} MB an upload may have") from None
        raise HTTPException(422, f"form: {detail}") from None
    check_csrf(request, str(form.get("csrf_token") or ""))
    # After the form is read and its token checked: an oversized or forged post is
    # refused for that, logged in or not.
    user = require_user(who, "to import papers")
    file, text = form.get("file"), form.get("text")
    if isinstance(file, UploadFile) and file.filename:
        content = await file.read(limit + 1)
        name = file.filename
    else:
        content = str(text or "").encode()
        name = "pasted list"
    tags = str(form.get("tags") or "").split(",")
    store = job_store(request)
    try:
        job = await anyio.to_thread.run_sync(lambda: queue_import(
            store, user.id, name, content, target=target, tags=tags,
            author=user.name or None, max_bytes=limit))
    except UploadError as exc:
        error = quote(str(exc)[:300], safe="")
        return RedirectResponse(f"{RETURN[target]}?import_error={error}",
                                status_code=303)
    runner: JobRunner | None = getattr(request.app.state, "jobs", None)
    if runner is not None:
        runner.wake()
    return RedirectResponse(f"{RETURN[target]}?job={job.id}", status_code=303)


@pages.post("/onboarding/import")
async def import_to_profile(request: Request, user: OptionalUser) -> Response:
    """A BibTeX file or pasted list: its papers become the user's own (the feed's seed)."""
    return await _upload(request, user, "profile")


@pages.post("/library/import")
async def import_to_library(request: Request, user: OptionalUser) -> Response:
    """A BibTeX file or pasted list: its papers are saved to the library with the tags."""
    return await _upload(request, user, "library")


def import_context(request: Request, user: Account) -> dict[str, Any]:
    """What a page with an import form shows: the user's newest imports, the error of a
    refused one, and whether to reload itself (an import is under way)."""
    jobs = [job_out(j) for j in job_store(request).for_user(user.id, limit=3)]
    return {"jobs": jobs, "import_error": request.query_params.get("import_error", "")[:300],
            "refresh": any(j.state in ACTIVE for j in jobs)}


NOT_LOGGED_IN: dict[int | str, dict[str, object]] = {
    401: {"model": s.ErrorOut, "description": "Not logged in"}}
JobsUser = Annotated[Account, Depends(LoggedIn("to see your imports", api=True))]


@api.get("/jobs", response_model=list[s.JobOut], responses=NOT_LOGGED_IN)
def my_jobs(request: Request, user: JobsUser) -> list[s.JobOut]:
    """Your newest background jobs (imports), newest first."""
    return [job_out(j) for j in job_store(request).for_user(user.id, limit=20)]


@api.get("/jobs/{job_id}", response_model=s.JobOut,
         responses={**NOT_LOGGED_IN, 404: {"model": s.ErrorOut,
                                            "description": "No such job of yours"},
                    422: {"model": s.ErrorOut, "description": "Invalid job id"}})
def my_job(request: Request, user: JobsUser,
           job_id: Annotated[int, Path(ge=1, le=2**62)]) -> s.JobOut:
    """One of your jobs with its progress; another user's job is 404, as if absent."""
    job = job_store(request).get(job_id)
    if job is None or job.user_id != user.id:
        raise HTTPException(404, "no such job of yours")
    return job_out(job)
