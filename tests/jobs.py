"""Following a background import over the API, as a script (or the page) would."""

from __future__ import annotations

import re
import time

import httpx


def wait_for_job(browser: httpx.Client, response: httpx.Response, timeout: float = 120.0
                 ) -> dict[str, object]:
    """The import job a form post queued (its 303 names it), once it is done or failed."""
    assert response.status_code == 303, response.text[-500:]
    found = re.search(r"[?&]job=(\d+)", response.headers["location"])
    assert found, response.headers["location"]
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, object] = browser.get(f"/api/v1/jobs/{found.group(1)}").json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
