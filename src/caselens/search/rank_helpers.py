"""Helper processes that rank ranges of an FTS5 search beside the searching process.

SQLite as Debian builds it (no lookaside memory, allocation statistics on) takes one
process-wide lock for every allocation, and FTS5 allocates for every row it ranks: two
threads ranking two halves of a query finish only about 1.4 times sooner than one
thread ranking all of it, two processes twice as soon. So the extra ranges go to helper
processes, fresh interpreters started on first use (safe in a process that runs
threads), which import little more than ``sqlite3`` and keep a connection per database,
so their page cache stays warm from one search to the next.

A helper reads with a connection of its own, which sees the last committed state: the
caller must make sure its own transaction sees the same (see ``fts5._ranking_parts``).
When a helper is busy, dies or fails, the caller ranks that range itself. A faceted
search also has each helper collect its range's ids, so that reading them is shared out
as the ranking is.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

# A helper that has not answered by then is stopped and its range ranked here.
ANSWER_SECONDS = 300.0
BUSY_TIMEOUT_MS = 60_000

Ranked = list[tuple[int, float]]


@dataclass(frozen=True, slots=True)
class RangeAnswer:
    """A helper's answer: the best rows of its range, and when asked, all its ids."""

    ranked: Ranked
    ids: str | None  # comma-separated, in rowid order; None when not asked for


class RankHelper:
    """One helper process and the pipes to it; used by one search at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._owner = 0  # pid of the process that started it (a forked child must not use it)

    def send(
        self, database: str, sql: str, parameters: dict[str, Any], ids_sql: str | None = None
    ) -> bool:
        """Hand a ranking (and an ids statement) to the helper, starting it if needed;
        False if it cannot take it. ``ids_sql`` returns one text of comma-separated ids."""
        try:
            process = self._ensure()
            assert process.stdin is not None
            process.stdin.write(_line([database, sql, parameters, ids_sql]))
            process.stdin.flush()
        except (OSError, ValueError, TypeError):
            self.stop()
            return False
        return True

    def receive(self) -> RangeAnswer | None:
        """The helper's answer, or None when it failed (then the caller ranks the range)."""
        process = self._process
        if process is None or process.stdout is None:
            return None
        try:
            readable, _, _ = select.select([process.stdout], [], [], ANSWER_SECONDS)
            if not readable:
                raise TimeoutError
            answer = json.loads(process.stdout.readline())
        except (OSError, TimeoutError, ValueError):  # an empty line too: the helper has died
            self.stop()
            return None
        if isinstance(answer, str):  # the helper's error: it goes on, the range is redone
            return None
        ranked, ids = answer
        return RangeAnswer([(int(rowid), float(score)) for rowid, score in ranked], ids)

    def _ensure(self) -> subprocess.Popen[bytes]:
        process = self._process
        if process is not None and self._owner == os.getpid() and process.poll() is None:
            return process
        self.stop()
        # A fresh interpreter running this module: not multiprocessing, whose start
        # methods re-import the caller's main script in the child.
        process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._process, self._owner = process, os.getpid()
        return process

    def stop(self) -> None:
        process, owner = self._process, self._owner
        self._process = None
        if process is None or owner != os.getpid():
            return  # inherited across a fork: the parent's helper, not ours to stop
        with contextlib.suppress(OSError):
            process.kill()
        process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class RankHelpers:
    """A few helpers shared by the searches of this process."""

    def __init__(self, count: int) -> None:
        self.helpers = [RankHelper() for _ in range(count)]

    @contextlib.contextmanager
    def free(self, wanted: int) -> Iterator[list[RankHelper]]:
        """Up to ``wanted`` helpers no other search is using, held for this one."""
        taken: list[RankHelper] = []
        try:
            for helper in self.helpers:
                if len(taken) == wanted:
                    break
                if helper.lock.acquire(blocking=False):
                    taken.append(helper)
            yield taken
        finally:
            for helper in taken:
                helper.lock.release()


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The helper's loop: rank what is asked on a connection kept per database."""
    connections: dict[str, sqlite3.Connection] = {}
    while True:
        try:
            request = requests.readline()
        except OSError:
            return
        if not request:
            return  # the searching process has gone
        database, sql, parameters, ids_sql = json.loads(request)
        try:
            connection = connections.get(database)
            if connection is None:
                connection = sqlite3.connect(database, isolation_level=None)
                connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                connection.execute("PRAGMA query_only = ON")
                connection.execute("PRAGMA cache_size = -65536")
                connections[database] = connection
            # One read transaction: the ids come from the snapshot the ranking saw.
            connection.execute("BEGIN")
            try:
                rows = connection.execute(sql, parameters).fetchall()
                ids = None
                if ids_sql is not None:
                    row = connection.execute(ids_sql, parameters).fetchone()
                    ids = (row[0] if row else None) or ""
            finally:
                connection.execute("COMMIT")
            ranked = [(int(rowid), float(score)) for rowid, score in rows]
            answer: tuple[Ranked, str | None] | str = (ranked, ids)
        except sqlite3.Error as err:
            answer = f"{type(err).__name__}: {err}"
        try:
            answers.write(_line(answer))
            answers.flush()
        except OSError:
            return


def _line(message: Any) -> bytes:
    """One message of the helpers' protocol: a line of JSON."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
