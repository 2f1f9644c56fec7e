"""What the store page says about each harvest checkpoint."""

from __future__ import annotations

from datetime import datetime, timedelta

from paperfeed.web.views import harvest_health

NOW = datetime(2026, 11, 23, 12, 0)


def test_a_harvest_up_to_yesterday_is_ok_and_an_old_one_is_behind() -> None:
    ok = harvest_health("oai-harvest|cs", {"last_until": "2026-11-22"}, NOW, NOW)
    assert (ok.kind, ok.status, ok.detail) == ("harvest", "ok", "harvested up to 2026-11-22")
    old = harvest_health("oai-harvest|cs", {"last_until": "2026-11-01"}, NOW, NOW)
    assert old.status == "behind" and "22 days ago" in old.detail


def test_a_page_in_flight_is_running_until_it_goes_quiet() -> None:
    state = {"in_progress": {"position": 2000, "complete_list_size": 9000}}
    running = harvest_health("oai-harvest|cs", state, NOW - timedelta(minutes=2), NOW)
    assert running.status == "running" and "2000 of 9000" in running.detail
    stuck = harvest_health("oai-harvest|cs", state, NOW - timedelta(hours=3), NOW)
    assert stuck.status == "interrupted" and "paperfeed harvest" in stuck.detail


def test_loaded_files_and_unknown_keys() -> None:
    loaded = harvest_health("loaded-file:/x.jsonl.gz", {"size": 1}, NOW, NOW)
    assert (loaded.kind, loaded.status) == ("load", "loaded")
    odd = harvest_health("something", {"last_until": "not a date"}, NOW, NOW)
    assert (odd.kind, odd.status) == ("other", "unknown")
    bad_date = harvest_health("oai-harvest|cs", {"last_until": "garbage"}, NOW, NOW)
    assert bad_date.status == "behind"
