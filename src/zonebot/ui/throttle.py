"""Per-client limits: how many events a client had in the last minute, and login attempts slowed down
(exponential backoff) once a client has failed too often.

A client is its IP address (``scope["client"]``): behind a reverse proxy every user shares the proxy's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("zonebot.ui")

#: Clients remembered at once; the least recently seen is forgotten first, so memory stays bounded.
MAX_CLIENTS = 10_000
#: Delay before the first attempt over the limit, doubled with each further failure, up to ``MAX_DELAY``.
FIRST_DELAY = 1.0
MAX_DELAY = 30.0


class SlidingWindow:
    """Counts each client's events over the last ``seconds``. Not thread-safe on its own: callers on
    several threads hold their own lock; the login throttle runs on the event loop."""

    def __init__(self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def count(self, client: str) -> int:
        """Events of ``client`` within the window."""
        events = self._events.get(client)
        if events is None:
            return 0
        cutoff = self._clock() - self.seconds
        while events and events[0] <= cutoff:
            events.popleft()
        return len(events)

    def add(self, client: str) -> int:
        """Record one event of ``client``; returns its count within the window, this one included."""
        count = self.count(client) + 1
        self._events.setdefault(client, deque()).append(self._clock())
        self._events.move_to_end(client)
        while len(self._events) > MAX_CLIENTS:
            self._events.popitem(last=False)
        return count

    def clear(self, client: str) -> None:
        self._events.pop(client, None)


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def backoff(failures: int, allowed: int) -> float:
    """Seconds to wait before an attempt after ``failures`` recent failures: none up to ``allowed``, then
    ``FIRST_DELAY`` doubled per further failure, at most ``MAX_DELAY``."""
    over = failures - allowed
    return 0.0 if over < 0 else min(MAX_DELAY, FIRST_DELAY * 2**over)


class LoginThrottle:
    """ASGI middleware over Gradio's ``POST /login``: after ``allowed`` failed logins in a minute, each
    further attempt from that client waits (1 s, 2 s, 4 s … 30 s) before it is checked, one at a time per
    client, so parallel guesses queue behind each other. Each failure is logged with the client's address;
    a success clears its count."""

    def __init__(self, app: ASGIApp, allowed: int = 10) -> None:
        self.app = app
        self.allowed = allowed
        self.failures = SlidingWindow(60.0)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # per client: its lock, requests using it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/login":
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        lock, users = self._locks.get(client) or (asyncio.Lock(), 0)
        self._locks[client] = (lock, users + 1)
        try:
            async with lock:
                await self._attempt(client, scope, receive, send)
        finally:
            lock, users = self._locks[client]
            if users == 1:
                del self._locks[client]  # nobody else is waiting: memory stays bounded by requests in flight
            else:
                self._locks[client] = (lock, users - 1)

    async def _attempt(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        delay = backoff(self.failures.count(client), self.allowed)
        if delay:
            await asyncio.sleep(delay)
        status: list[int] = []

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, send_and_note)
        self._note(client, status[0] if status else 500)

    def _note(self, client: str, status: int) -> None:
        if status == 200:
            self.failures.clear(client)
        elif status in (400, 401, 403):  # Gradio answers a wrong user or password with 400
            count = self.failures.add(client)
            wait = backoff(count, self.allowed)
            then = f"; the next attempt waits {wait:.0f} s" if wait else ""
            log.warning("failed login from %s (%d in the last minute)%s", client, count, then)
