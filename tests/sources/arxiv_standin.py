"""A scripted stand-in for arXiv's OAI-PMH and API endpoints, on 127.0.0.1, for tests.

`ArxivStandin` is a real `ThreadingHTTPServer` on a free loopback port that
answers from a queue of scripted `Reply`s (then from a handler) and records
every request it got. `OaiRepository` is such a handler: a small OAI-PMH
repository that pages a list of `FakePaper`s with resumption tokens and can
expire its tokens. The XML builders write arXiv-format OAI-PMH responses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape


@dataclass
class Reply:
    """What the stand-in answers. `cut_at` announces the full length but sends fewer bytes."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None


@dataclass
class SeenRequest:
    """A request as the stand-in received it; `at` is read from the test's clock."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float


Handler = Callable[[SeenRequest], Reply]


class ArxivStandin:
    """A loopback HTTP server answering scripted replies first, then `handler`."""

    def __init__(
        self, handler: Handler | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.requests: list[SeenRequest] = []
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def script(self, *replies: Reply) -> None:
        """Queue replies served (in order) before the handler is asked."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def base(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.base + "/oai"

    def _answer(self, request: SeenRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.pop(0)
        if self.handler is not None:
            return self.handler(request)
        return Reply(status=500, body=b"unscripted request")

    def __enter__(self) -> ArxivStandin:
        standin = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                seen = SeenRequest(
                    path=parts.path,
                    params=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    at=standin.clock(),
                )
                reply = standin._answer(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# --- arXiv-format OAI-PMH XML ----------------------------------------------------------


@dataclass(frozen=True)
class FakePaper:
    """A paper the stand-in repository serves; `datestamp` is its OAI datestamp."""

    arxiv_id: str
    title: str
    datestamp: date
    set_spec: str = "cs"
    categories: str = "cs.CV"
    abstract: str = "We study things."
    deleted: bool = False


def arxiv_record_xml(paper: FakePaper) -> str:
    """One <record> in the `arXiv` metadata format, as arXiv writes it."""
    if paper.deleted:
        return (
            f'<record><header status="deleted"><identifier>oai:arXiv.org:{paper.arxiv_id}'
            f"</identifier><datestamp>{paper.datestamp}</datestamp>"
            f"<setSpec>{paper.set_spec}</setSpec></header></record>"
        )
    return f"""<record>
<header>
 <identifier>oai:arXiv.org:{paper.arxiv_id}</identifier>
 <datestamp>{paper.datestamp}</datestamp>
 <setSpec>{paper.set_spec}</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">
 <id>{paper.arxiv_id}</id><created>{paper.datestamp}</created>
 <authors><author><keyname>Doe</keyname><forenames>Jane</forenames></author></authors>
 <title>{escape(paper.title)}</title>
 <categories>{paper.categories}</categories>
 <abstract>  {escape(paper.abstract)}
</abstract>
 </arXiv>
</metadata>
</record>"""


def oai_envelope(inner: str, request_args: str = 'verb="ListRecords"') -> bytes:
    """An OAI-PMH 2.0 response around `inner`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2025-03-04T12:00:00Z</responseDate>
<request {request_args}>http://oaipmh.arxiv.org/oai</request>
{inner}
</OAI-PMH>
""".encode()


def list_records_xml(
    papers: list[FakePaper], *, token: str | None = None, cursor: int = 0,
    size: int | None = None, final_token_element: bool = True,
) -> bytes:
    """A ListRecords page; the token element is empty on the last page, as OAI-PMH says."""
    records = "\n".join(arxiv_record_xml(p) for p in papers)
    size_attr = f' completeListSize="{size}"' if size is not None else ""
    if token:
        token_xml = f'<resumptionToken cursor="{cursor}"{size_attr}>{token}</resumptionToken>'
    elif final_token_element:
        token_xml = f'<resumptionToken cursor="{cursor}"{size_attr}/>'
    else:
        token_xml = ""
    return oai_envelope(f"<ListRecords>\n{records}\n{token_xml}\n</ListRecords>")


def oai_error_xml(code: str, message: str) -> bytes:
    return oai_envelope(f'<error code="{code}">{escape(message)}</error>')


class OaiRepository:
    """A small OAI-PMH repository: filters by set and datestamp, pages with tokens."""

    def __init__(self, papers: list[FakePaper], *, page_size: int = 2) -> None:
        self.papers = papers
        self.page_size = page_size
        self._lists: dict[int, list[FakePaper]] = {}
        self._expired: set[int] = set()
        self._generation = 0
        self.tokens_issued: list[str] = []

    def expire_tokens(self) -> None:
        """Every token issued so far becomes a badResumptionToken (as after a timeout)."""
        self._expired.update(self._lists)

    def __call__(self, request: SeenRequest) -> Reply:
        params = request.params
        if params.get("verb") != "ListRecords":
            return Reply(body=oai_error_xml("badVerb", "only ListRecords here"))
        if "resumptionToken" in params:
            if set(params) != {"verb", "resumptionToken"}:
                return Reply(body=oai_error_xml("badArgument", "resumptionToken is exclusive"))
            try:
                generation_text, offset_text = params["resumptionToken"].split(":")
                generation, offset = int(generation_text), int(offset_text)
            except ValueError:
                return Reply(body=oai_error_xml("badResumptionToken", "unknown token"))
            if generation in self._expired or generation not in self._lists:
                return Reply(body=oai_error_xml("badResumptionToken", "token expired"))
            listing = self._lists[generation]
        else:
            if params.get("metadataPrefix") != "arXiv":
                return Reply(body=oai_error_xml("cannotDisseminateFormat", "arXiv only"))
            start = date.fromisoformat(params["from"]) if "from" in params else date.min
            end = date.fromisoformat(params["until"]) if "until" in params else date.max
            wanted = params.get("set")
            listing = [
                p for p in self.papers
                if start <= p.datestamp <= end
                and (wanted is None or p.set_spec == wanted or p.set_spec.startswith(wanted + ":"))
            ]
            if not listing:
                return Reply(body=oai_error_xml("noRecordsMatch", "nothing in this window"))
            self._generation += 1
            generation, offset = self._generation, 0
            self._lists[generation] = listing
        page = listing[offset : offset + self.page_size]
        following = offset + self.page_size
        token = f"{generation}:{following}" if following < len(listing) else None
        if token:
            self.tokens_issued.append(token)
        return Reply(body=list_records_xml(page, token=token, cursor=offset, size=len(listing)))
