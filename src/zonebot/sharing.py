"""Sharing the CPU between questions: every question gets its turn, and a long one cannot hold up the rest.

Answering is CPU-bound (embedding, scoring, the verifier), and a question is answered in steps (its
plan, then one step per part). ``FairShare`` lets at most ``workers`` steps run at once, and when a
slot frees it goes to the waiting question that has had the least CPU time so far (least attained
service first; of questions that have had none, the one with the fewest steps). Questions already
under way use at most ``workers - 1`` slots, so with two workers or more a question that has just
arrived finds a slot free at once: an ordinary question behind four long ones does not wait for
them, and they share what is left evenly.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def machine_workers() -> int:
    """Steps to run at once by default: the CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Ticket:
    """One question's place in the share: the CPU time its steps took and when its time runs out."""

    seq: int
    deadline: float  #: ``time.monotonic()`` value; ``inf`` for no limit
    used: float = 0.0  #: seconds its steps have run
    steps: int = 0
    remaining: int = 1  #: steps still to come (the caller keeps it up to date); breaks ties in ``used``

    @property
    def key(self) -> tuple[float, int, int]:
        """Its place in line: least time used first; of equals (none yet), the one with the fewest steps to go."""
        return (self.used, self.remaining, self.seq)

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


class FairShare:
    """At most ``workers`` steps at once; a free slot goes to the question that has used the least so far.

    >>> share = FairShare(workers=2)
    >>> ticket = share.ticket(seconds=15)
    >>> with share.turn(ticket):
    ...     ...  # one step of the question's work
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or machine_workers()
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")
        self._running = 0
        self._continuing = 0  # steps running of questions that had a step before
        self._waiting: list[tuple[float, int, int]] = []  # the key of each waiting step: a heap
        self._cond = threading.Condition()
        self._seq = itertools.count()

    def ticket(self, seconds: float | None = None, steps: int = 1) -> Ticket:
        """A new question's ticket for ``steps`` steps; its time runs out ``seconds`` from now (``None``: never)."""
        deadline = time.monotonic() + seconds if seconds else float("inf")
        return Ticket(seq=next(self._seq), deadline=deadline, remaining=steps)

    @contextmanager
    def turn(self, ticket: Ticket) -> Iterator[None]:
        """Wait for a slot (least-served question first), hold it for the ``with`` body, count the time."""
        key, continuing = ticket.key, ticket.steps > 0
        with self._cond:
            heapq.heappush(self._waiting, key)
            while not self._may_start(key, continuing):
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._running += 1
            self._continuing += continuing
            if self._running < self.workers and self._waiting:
                self._cond.notify_all()  # another slot is still free: the next in line may go too
        started = time.perf_counter()
        try:
            yield
        finally:
            ticket.used += time.perf_counter() - started
            ticket.steps += 1
            ticket.remaining = max(0, ticket.remaining - 1)
            with self._cond:
                self._running -= 1
                self._continuing -= continuing
                self._cond.notify_all()

    def _may_start(self, key: tuple[float, int, int], continuing: bool) -> bool:
        """A free slot, first in line, and (with two or more workers) a slot left for a question just arrived:
        questions already under way use at most ``workers - 1`` slots."""
        if self._running >= self.workers or self._waiting[0] != key:
            return False
        return not continuing or self.workers == 1 or self._continuing < self.workers - 1

    @property
    def busy(self) -> int:
        """Steps running now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Steps waiting for a slot."""
        return len(self._waiting)
