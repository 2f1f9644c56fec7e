"""Background work of a running server: the job runner and the jobs it runs.

Owns `JobRunner` (one thread per server process that takes queued jobs from the store's
queue, `paperfeed.store.jobs`, runs them and records their progress) and the import of
a user's uploaded publication list (`imports`), and the `Scheduler` of the recurring
jobs (`schedule`: harvest, digests), which runs them under leases in the store.
Blocking work lives here, never on the web app's event loop; the web layer only queues
a job and shows its progress.
"""

from paperfeed.application.onboarding import UploadError
from paperfeed.jobs.imports import IMPORT, queue_import, run_import
from paperfeed.jobs.runner import JobRunner
from paperfeed.jobs.schedule import Scheduler, scheduler_for

__all__ = ["IMPORT", "JobRunner", "Scheduler", "UploadError", "queue_import", "run_import",
           "scheduler_for"]
