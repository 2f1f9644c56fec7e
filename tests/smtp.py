"""A real SMTP server (aiosmtpd) on a free loopback port, for the tests that send mail."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from aiosmtpd.controller import Controller


@contextlib.contextmanager
def loopback_smtp(handler: object) -> Iterator[int]:
    """Serve `handler` (aiosmtpd's `handle_DATA`) until the block ends; yields the port."""
    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting: no port 0
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
