"""Background work of a running server: the job runner and the jobs it runs.

Owns `JobRunner` (one thread per server process that takes queued jobs from the store's
queue, `paperfeed.store.jobs`, runs them and records their progress) and the import of
a user's uploaded publication list (`imports`). Blocking work lives here, never on the
web app's event loop; the web layer only queues a job and shows its progress.
"""

from paperfeed.application.onboarding import UploadError
from paperfeed.jobs.imports import IMPORT, queue_import, run_import
from paperfeed.jobs.runner import JobRunner

__all__ = ["IMPORT", "JobRunner", "UploadError", "queue_import", "run_import"]
