"""Running the Debian archive tools (unar/lsar, bsdtar) safely: timeouts, size caps, no links.

Tools only ever write into a scratch folder the source hands out; their extraction is
stopped when it runs past the item's time limit or writes more than the size budget,
and the folder is read back without following symbolic links.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caselens.ingest.errors import LimitReached
from caselens.ingest.formats.archives_base import StreamDefect

POLL_SECONDS = 0.05
# Tool messages are written in English whatever the machine's locale.
TOOL_ENV = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def tool(name: str) -> str | None:
    """The path of an installed tool, or None."""
    return shutil.which(name)


def has_unar() -> bool:
    return tool("unar") is not None and tool("lsar") is not None


@dataclass(frozen=True, slots=True)
class ToolRun:
    returncode: int
    stdout: bytes
    stderr: str


def run(args: list[str], timeout: float) -> ToolRun:
    """Run a tool that only prints (a listing); LimitReached when it runs too long."""
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            timeout=timeout,
            env=TOOL_ENV,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal: a tool cannot prompt
        )
    except subprocess.TimeoutExpired as err:
        raise LimitReached(
            f"{Path(args[0]).name} ran longer than {timeout:g} s (limit item_timeout)"
        ) from err
    return ToolRun(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))


def run_extraction(
    args: list[str], folder: Path, log: Path, timeout: float, max_bytes: int
) -> ToolRun:
    """Run an extracting tool, stopping it past ``timeout`` seconds or ``max_bytes`` written."""
    with log.open("wb") as errors:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=TOOL_ENV,
            start_new_session=True,  # no controlling terminal: a tool cannot prompt
        )
        deadline = time.monotonic() + timeout
        problem = None
        while process.poll() is None:
            if time.monotonic() > deadline:
                problem = f"{Path(args[0]).name} ran longer than {timeout:g} s (limit item_timeout)"
            elif folder_size(folder) > max_bytes:
                problem = (
                    f"{Path(args[0]).name} wrote more than {max_bytes} bytes "
                    "(limit max_expanded_mb)"
                )
            if problem:
                process.kill()
                process.wait()
                raise LimitReached(problem)
            time.sleep(POLL_SECONDS)
    return ToolRun(process.returncode, b"", log.read_text("utf-8", "replace"))


def folder_size(folder: Path) -> int:
    return sum(entry.stat(follow_symlinks=False).st_size for entry in _entries(folder))


def _entries(folder: Path) -> Iterator[os.DirEntry[str]]:
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return
    for entry in listing:
        yield entry
        if entry.is_dir(follow_symlinks=False):
            yield from _entries(Path(entry.path))


def walk_files(folder: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(relative path, path, lstat) of everything below ``folder`` except directories.

    Symbolic links are reported, never followed; the caller decides what to keep.
    """
    for entry in _entries(folder):
        if entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        yield path.relative_to(folder).as_posix(), path, entry.stat(follow_symlinks=False)


def is_regular(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode)


def open_no_follow(path: Path) -> Any:
    """Open an extracted file for reading, refusing a symbolic link put in its place."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def lsar_listing(archive: Path, password: str | None, timeout: float) -> tuple[dict[str, Any], str]:
    """lsar's JSON listing of ``archive`` (no recursion into inner archives) and its stderr."""
    args = [tool("lsar") or "lsar", "-j", "-nr"]
    if password is not None:
        args += ["-p", password]
    done = run([*args, "--", str(archive)], timeout)
    try:
        listing = json.loads(done.stdout.decode("utf-8", "surrogateescape"))
    except ValueError:
        listing = {}
    if not isinstance(listing, dict):
        listing = {}
    if done.returncode != 0 and "lsarError" not in listing:
        listing["lsarError"] = done.returncode
    return listing, done.stderr


class ToolMemberStream:
    """One member written by ``unar -o -`` to its standard output, read as a stream.

    A watchdog kills the tool when it runs past the time limit; a tool failure shows as
    StreamDefect at the end of the data.
    """

    def __init__(self, args: list[str], timeout: float) -> None:
        self._process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=TOOL_ENV,
            start_new_session=True,
        )
        self._timed_out = False
        self._watchdog = threading.Timer(timeout, self._kill)
        self._watchdog.daemon = True
        self._watchdog.start()
        self._timeout = timeout

    def _kill(self) -> None:
        self._timed_out = True
        self._process.kill()

    def read(self, size: int = -1, /) -> bytes:
        assert self._process.stdout is not None
        data = self._process.stdout.read(size)
        if not data:
            self._finish()
            if self._timed_out:
                raise LimitReached(f"unar ran longer than {self._timeout:g} s (limit item_timeout)")
            if self._process.returncode != 0:
                raise StreamDefect(f"unar failed with exit status {self._process.returncode}")
        return data

    def _finish(self) -> None:
        # The tool has closed its output: let it exit by itself (the watchdog still runs).
        self._process.wait()
        self._watchdog.cancel()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def close(self) -> None:
        self._watchdog.cancel()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
