"""The suite's own server answers, and an operator-made account can log in."""

from __future__ import annotations

from tests.security.conftest import Served, log_in


def test_the_served_copy_answers_and_logs_in(served: Served) -> None:
    with served.client() as browser:
        assert browser.get("/api/v1/health").status_code == 200
        served.account("smoke@example.org")
        log_in(browser, "smoke@example.org")
        assert browser.get("/api/v1/me").json()["email"] == "smoke@example.org"
