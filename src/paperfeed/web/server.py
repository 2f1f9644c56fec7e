"""Running the web app with uvicorn: in the foreground, or in a thread for checks and tests."""

from __future__ import annotations

import errno
import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from paperfeed.errors import PaperfeedError


class ServerError(PaperfeedError):
    """The web server could not start (address in use, ...)."""


def check_port(host: str, port: int) -> None:
    """Fail with a clear message before uvicorn would, if the address is taken."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc}"
            raise ServerError(f"{host}:{port} {why}; choose another with --port") from None


def address(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class BackgroundServer:
    """uvicorn serving an app in a daemon thread on loopback, for `with` blocks."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0,
                 start_timeout: float = 120.0) -> None:
        check_port(host, port)
        self._server = uvicorn.Server(uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False))
        self._thread = threading.Thread(target=self._server.run, name="paperfeed-web",
                                        daemon=True)
        self._host = host
        self._timeout = start_timeout
        self.url = ""

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise ServerError("the web server stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise ServerError(f"the web server did not start within {self._timeout:.0f} s")
            time.sleep(0.05)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = address(self._host, port)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
