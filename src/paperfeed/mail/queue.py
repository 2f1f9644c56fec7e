"""Sending mail off the request path: one worker thread fed by a bounded queue.

A request that has mail to send (a sign-up or reset link) hands a job to the queue and
answers at once, so its response time depends neither on the mail server nor on whether
a message is sent at all, which would tell who has an account. A job composes its message
in the worker, where it may read and write the store (does the address have an account?),
and returns None when there is nothing to send. Failures are logged, never raised.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from paperfeed.mail.mailer import mailer_from_env

log = logging.getLogger(__name__)

# A job gets the sender address and returns the message to send, or None.
MailJob = Callable[[str], EmailMessage | None]
MAX_PENDING = 1000  # beyond this a flood is dropped (and logged) rather than held in memory


class MailQueue:
    """A single worker thread that composes and sends queued mail, oldest first.

    `start` at server start-up, `stop` at shutdown (it sends what is queued, for up to
    `timeout` seconds). The mailer is read from the environment for each message
    (`mailer_from_env`): SMTP when PAPERFEED_SMTP_URL is set, else the outbox folder.
    """

    def __init__(self, outbox: Path, *, max_pending: int = MAX_PENDING) -> None:
        self.outbox = outbox
        self.max_pending = max_pending
        self._jobs: queue.Queue[MailJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._closed = False
                # A daemon: a process that exits without `stop` is not held up by mail.
                self._thread = threading.Thread(target=self._run, name="paperfeed-mail",
                                                daemon=True)
                self._thread.start()

    def submit(self, job: MailJob) -> bool:
        """Queue a job; False (and a log line) when the queue is full or stopped. Starts
        the worker if nobody did (an app used without its lifespan)."""
        if self._closed:
            log.warning("mail queue stopped: a message was not sent")
            return False
        if self._jobs.qsize() >= self.max_pending:
            log.warning("mail queue full (%d messages waiting): a message was dropped",
                        self.max_pending)
            return False
        self.start()
        self._jobs.put(job)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued, then end the worker (waiting at most `timeout` s)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._jobs.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("mail queue: %d messages still unsent at shutdown", self._jobs.qsize())

    def join(self) -> None:
        """Wait until every queued job has been done (tests, the CLI)."""
        self._jobs.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self._send(job)
            finally:
                self._jobs.task_done()

    def _send(self, job: MailJob) -> None:
        try:
            mailer, sender = mailer_from_env(self.outbox)
            msg = job(sender)
            if msg is not None:
                mailer.send(msg)
        except Exception:  # the worker must outlive any one message
            log.exception("could not send a queued message")
