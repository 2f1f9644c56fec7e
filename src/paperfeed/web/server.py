"""Running the web app with uvicorn: in the foreground, or in a thread for checks and tests."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from paperfeed.errors import PaperfeedError


class ServerError(PaperfeedError):
    """The web server could not start (address in use, ...)."""


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with TCP_NODELAY set on every connection.

    asyncio sets it only on sockets whose `proto` is IPPROTO_TCP; the listening socket
    uvicorn hands to worker processes (`--workers 2`) comes back with proto 0, so its
    connections kept Nagle's algorithm: each keep-alive response waited for the client's
    delayed ACK, 40 ms (measured: /api/v1/health 6 ms with one worker, 48 ms with two).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # not fatal: only slower
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


HTTP_PROTOCOL = "paperfeed.web.server:NoDelayH11Protocol"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds `serve_workers` waits for its workers after SIGTERM: long enough for a harvest
# page and an index batch in hand (a scheduled run's lease outlives a kill anyway).
STOP_GRACE = 600.0


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


def adopt_address(app: FastAPI, url: str) -> None:
    """Make the app's listening address its base URL for links, unless one was configured
    (PAPERFEED_BASE_URL): links in emails and feeds never come from a request's Host."""
    settings = getattr(app.state, "settings", None)
    if settings is not None:
        app.state.settings = settings.with_base_url(url)


class BackgroundServer:
    """uvicorn serving an app in a daemon thread on loopback, for `with` blocks."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0,
                 start_timeout: float = 120.0) -> None:
        check_port(host, port)
        self._server = uvicorn.Server(uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False,
            http=HTTP_PROTOCOL))
        self._thread = threading.Thread(target=self._server.run, name="paperfeed-web",
                                        daemon=True)
        self._app = app
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
        adopt_address(self._app, self.url)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def _config(app: FastAPI | str, log_config: dict[str, Any] | None, **options: Any
            ) -> uvicorn.Config:
    """uvicorn's settings for a paperfeed server: warnings only and no access log by
    default; with `log_config` (`--log-json`) that logging, and the app's access lines."""
    if log_config is None:
        return uvicorn.Config(app, log_level="warning", access_log=False, http=HTTP_PROTOCOL,
                              **options)
    return uvicorn.Config(app, log_config=log_config, access_log=False, http=HTTP_PROTOCOL,
                          **options)


def _run_to_the_end(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then finish in-flight requests and the lifespan's
    shutdown (the job and scheduled run in hand), and return.

    uvicorn raises the signal it caught again once it has shut down, so that the default
    action ends the process; for SIGTERM that is death by signal (exit status -15). A
    graceful stop is a success: SIGTERM's handler is a no-op while we serve and after.
    """
    signal.signal(signal.SIGTERM, lambda *_: None)
    server.run(sockets=sockets)
    if not server.started:  # uvicorn.run exits 3 here; say so instead of ending quietly
        raise ServerError("the web server did not start (see the log above)")


def serve_app(app: FastAPI, host: str, port: int, *,
              log_config: dict[str, Any] | None = None) -> None:
    """Serve `app` in the foreground until SIGTERM or Ctrl-C (`paperfeed serve`)."""
    _run_to_the_end(uvicorn.Server(_config(app, log_config, host=host, port=port)))


def _worker(host: str, port: int, data_dir: str, log_config: dict[str, Any] | None) -> None:
    """One server process with its own listening socket on the shared port."""
    os.environ["PAPERFEED_DATA"] = data_dir
    # Every worker builds links from the same base URL: the configured one, else this address.
    os.environ.setdefault("PAPERFEED_BASE_URL", address(host, port))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    server = uvicorn.Server(_config("paperfeed.web.app:app_from_env", log_config,
                                    factory=True))
    _run_to_the_end(server, sockets=[sock])


def serve_workers(host: str, port: int, workers: int, data_dir: Path, *,
                  log_config: dict[str, Any] | None = None) -> None:
    """`workers` processes, each listening on the port with SO_REUSEPORT.

    uvicorn's own `--workers` shares one listening socket, and Linux hands most new
    connections to the same process, so keep-alive clients all landed on one worker
    and a second worker added nothing (measured: search at concurrency 8, 45 req/s with
    one worker or two). With a socket per process the kernel spreads connections by
    hash. Ctrl-C or SIGTERM stops every worker: each finishes its in-flight requests
    and the job in hand, and this waits for them all (up to `STOP_GRACE` seconds).

    The workers share one fresh PROMETHEUS_MULTIPROC_DIR (removed when they are gone),
    so that /metrics on any of them counts the requests of all (web/metrics.py).
    """
    import multiprocessing

    check_port(host, port)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(host, port, str(data_dir), log_config),
                                 name=f"paperfeed-web-{i}") for i in range(workers)]

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    with tempfile.TemporaryDirectory(prefix="paperfeed-metrics-") as metrics_dir:
        try:
            # Set before the workers start: prometheus-client reads it when first imported.
            with _environ(MULTIPROC_ENV, metrics_dir):
                for process in processes:
                    process.start()
            while all(p.is_alive() for p in processes):
                time.sleep(0.5)
            failed = [p.name for p in processes if p.exitcode]
            if failed:
                raise ServerError(f"web worker {failed[0]} stopped (see the log above)")
        except KeyboardInterrupt:
            pass
        finally:
            # A second SIGTERM while the workers wind down must not cut this wait short.
            signal.signal(signal.SIGTERM, lambda *_: None)
            for process in processes:
                if process.is_alive():
                    process.terminate()  # uvicorn shuts down gracefully on SIGTERM
            deadline = time.monotonic() + STOP_GRACE
            for process in processes:
                process.join(timeout=max(0.0, deadline - time.monotonic()))
                if process.is_alive():  # stuck past the grace period
                    process.kill()
                    process.join()
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old
