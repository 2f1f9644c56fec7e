"""Logging for the long-running commands (`serve`, `worker`): `--log-json` makes every
line one JSON object on stderr.

Each object has `time` (ISO 8601, UTC), `level`, `logger` and `message`, plus the
fields a line carries: method, route, path, status and duration_ms on the access lines
(`paperfeed.access`), job, outcome, duration_ms and counts on job runs, exc_info on
errors. The formatter is python-json-logger's (it keeps a record's extra fields and
formats tracebacks). The same dictConfig goes to uvicorn (`log_config`), so its own
loggers (uvicorn, uvicorn.error) print JSON too; its access log is off, the app's
access lines carry the route template it lacks.
"""

from __future__ import annotations

import logging.config
from typing import Any

JSON_FORMATTER = "pythonjsonlogger.json.JsonFormatter"


def json_log_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: one JSON handler on stderr for every logger."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": JSON_FORMATTER, "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"}, "timestamp": "time"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's loggers go through the root's handler (none of their own, so no line
        # is printed twice, and none in uvicorn's plain format).
        "loggers": {name: {"handlers": [], "propagate": True, "level": level}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def use_json_logs(level: str = "INFO") -> dict[str, Any]:
    """Switch this process to JSON lines; the config, for uvicorn to apply again."""
    config = json_log_config(level)
    logging.config.dictConfig(config)
    return config
