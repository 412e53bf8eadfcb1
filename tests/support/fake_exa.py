"""A real HTTP server on 127.0.0.1 that answers like Exa's /findSimilar and /search.

Response shape (per Exa's OpenAPI spec): ``{"requestId", "results": [{"id",
"url", "title", "score", "publishedDate", "author", "image", "favicon", "text",
"highlights", "highlightScores", "summary"}]}``. Each ``/findSimilar`` page
leaks the user's own domain and a subdomain of it first (as if Exa ignored
``excludeDomains``), then competitors not yet in ``excludeDomains``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_SOCIAL_RESULTS: list[dict[str, Any]] = [
    {"id": "1", "url": "", "title": "empty"},
    {"id": "2", "url": True, "title": "boolean"},
    {"id": "3", "url": 1, "title": "number"},
    {"id": "4", "url": "/company/acme", "title": "relative"},
    {"id": "5", "url": "twitter.com/acme", "title": "Acme on X"},
    {"id": "6", "url": "https://www.linkedin.com/company/acme/?trk=x", "title": "Acme | LinkedIn"},
    {"id": "7", "url": "https://www.facebook.com/sharer/sharer.php?u=x", "title": "share link"},
    {"id": "8", "url": "http://instagram.com/acme", "title": "Acme (@acme)"},
]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeExaConfig:
    api_key: str = "test-key"
    own_domain: str = "acme.com"
    competitor_pool: int = 150
    leading_429s: int = 0
    retry_after: str | None = "0"
    always_500: bool = False
    delay: float = 0.0
    # While this event is unset every request waits for it (or for the server to stop).
    gate: threading.Event | None = None
    social_results: list[dict[str, Any]] = field(
        default_factory=lambda: list(DEFAULT_SOCIAL_RESULTS)
    )
    # When set, every /findSimilar answers these results as they are (a hostile
    # provider's answer, say) instead of the generated competitors.
    similar_results: list[dict[str, Any]] | None = None


class FakeExa:
    def __init__(self, config: FakeExaConfig) -> None:
        self.config = config
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._throttled = 0
        self._in_flight: dict[str, int] = {}
        self._most_in_flight: dict[str, int] = {}
        self.stopping = threading.Event()
        self.base_url = ""

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def enter(self, path: str) -> None:
        with self._lock:
            now = self._in_flight.get(path, 0) + 1
            self._in_flight[path] = now
            self._most_in_flight[path] = max(now, self._most_in_flight.get(path, 0))

    def leave(self, path: str) -> None:
        with self._lock:
            self._in_flight[path] -= 1

    def in_flight(self, path: str) -> int:
        """Requests to `path` received and not yet answered."""
        with self._lock:
            return self._in_flight.get(path, 0)

    def most_in_flight(self, path: str) -> int:
        """The most requests to `path` that were ever being answered at once."""
        with self._lock:
            return self._most_in_flight.get(path, 0)

    @property
    def holding(self) -> bool:
        """Whether requests are being held: a `gate` that was not released yet."""
        return self.config.gate is not None and not self.config.gate.is_set()

    def release(self) -> None:
        """Let the held requests, and every later one, go."""
        assert self.config.gate is not None, "this fake holds nothing back"
        self.config.gate.set()

    def take_throttle(self) -> bool:
        with self._lock:
            if self._throttled < self.config.leading_429s:
                self._throttled += 1
                return True
            return False

    def result(self, url: str, rank: int) -> dict[str, Any]:
        return {
            "id": url,
            "url": url,
            "title": f"Result {rank}",
            "score": round(max(0.0, 0.99 - rank * 0.01), 4),
            "publishedDate": "2024-01-01",
            "author": None,
            "image": f"{url}og.png",
            "favicon": f"{url}favicon.ico",
            "text": "Some page text.",
            "highlights": [f"Highlight for {url}"],
            "highlightScores": [0.5],
            "summary": f"Summary of {url}",
        }

    def find_similar(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = int(body.get("numResults", 10))
        if self.config.similar_results is not None:
            return {"requestId": "fake", "results": self.config.similar_results[:wanted]}
        excluded = set(body.get("excludeDomains") or [])
        own = self.config.own_domain
        results = [
            self.result(f"https://{own}/about/", 0),
            self.result(f"https://blog.{own}/post/", 0),
        ]
        for n in range(self.config.competitor_pool):
            domain = f"competitor{n}.com"
            if len(results) >= wanted:
                break
            if domain not in excluded:
                results.append(self.result(f"https://www.{domain}/", n + 1))
        return {"requestId": "fake", "results": results[:wanted]}


def _handler(fake: FakeExa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            body: Any = json.loads(raw) if raw else {}
            fake.record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            fake.enter(self.path)
            try:
                self._answer(body)
            finally:
                fake.leave(self.path)

        def _held(self) -> bool:
            """Wait as configured; True when the server stops meanwhile."""
            cfg = fake.config
            if cfg.delay and fake.stopping.wait(cfg.delay):
                return True
            while cfg.gate is not None and not cfg.gate.wait(0.02):
                if fake.stopping.is_set():
                    return True
            return False

        def _answer(self, body: Any) -> None:
            cfg = fake.config
            if self._held():
                return
            if self.headers.get("x-api-key") != cfg.api_key:
                self._send(401, {"error": "Invalid API key"})
            elif cfg.always_500:
                self._send(500, {"error": "internal"})
            elif fake.take_throttle():
                extra = {"retry-after": cfg.retry_after} if cfg.retry_after is not None else {}
                self._send(429, {"error": "rate limit exceeded"}, extra)
            elif self.path == "/findSimilar":
                self._send(200, fake.find_similar(body))
            elif self.path == "/search":
                self._send(200, {"requestId": "fake", "results": cfg.social_results})
            else:
                self._send(404, {"error": "not found"})

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: dozens of calls connecting at once
    # (a test filling the provider's pool) overflow it, and the kernel drops their
    # handshakes, which the client retries only after 1, 3, 7, 15, 31 s.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out hang up on us; that is the point of those tests.
        pass


@contextmanager
def run_fake_exa(config: FakeExaConfig | None = None) -> Iterator[FakeExa]:
    fake = FakeExa(config or FakeExaConfig())
    server = _QuietServer(("127.0.0.1", 0), _handler(fake))
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
