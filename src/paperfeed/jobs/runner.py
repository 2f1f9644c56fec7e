"""One thread that runs the store's queued jobs, one at a time, in the server process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from paperfeed.errors import PaperfeedError
from paperfeed.store.jobs import DONE, FAILED, JobInfo, JobStore

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
Handler = Callable[[JobInfo, Progress], str]
# A running job beats at least every batch (seconds apart); one silent this long has no
# runner any more (its process died) and is run again.
STALE_AFTER = timedelta(minutes=10)


class JobRunner:
    """Runs queued jobs of the kinds it has handlers for, in a daemon thread.

    `wake()` after queueing a job starts it at once; otherwise the queue is polled every
    `poll` seconds (another process may queue jobs too). A handler returns the message
    shown to the user; a `PaperfeedError` fails the job with its message, anything else
    fails it with a generic one and is logged with its traceback.
    """

    def __init__(self, jobs: JobStore, handlers: Mapping[str, Handler], *,
                 poll: float = 2.0) -> None:
        self.jobs = jobs
        self.handlers = dict(handlers)
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        resumed = self.jobs.requeue_stale(STALE_AFTER)
        if resumed:
            log.info("resuming %d interrupted jobs", resumed)
        self._thread = threading.Thread(target=self._loop, name="paperfeed-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the current job (a job is not cut off midway)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """True once no job is running and the queue was found empty (for tests)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        kinds = tuple(self.handlers)
        while not self._stop.is_set():
            try:
                job = self.jobs.claim(kinds)
            except Exception:  # the store is busy or gone: try again later
                log.exception("could not claim a job")
                job = None
            if job is None:
                self._idle.set()
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self._idle.clear()
            self.run(job)

    def run(self, job: JobInfo) -> None:
        """Run one claimed job to its end, recording the outcome."""
        last: dict[str, Any] = {}

        def progress(update: dict[str, Any]) -> None:
            last.update(update)
            self.jobs.beat(job.id, last)

        try:
            message = self.handlers[job.kind](job, progress)
        except PaperfeedError as exc:
            self.jobs.finish(job.id, FAILED, str(exc), last)
        except Exception:
            log.exception("job %d (%s) failed", job.id, job.kind)
            self.jobs.finish(job.id, FAILED, "the job failed on our side; the server log "
                             "has the details", last)
        else:
            self.jobs.finish(job.id, DONE, message, last)
