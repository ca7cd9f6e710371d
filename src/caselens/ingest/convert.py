"""Document conversion with LibreOffice (headless), an optional extra tool.

Used only as a fallback, when a built-in parser cannot read a legacy Office file. Each run
has its own LibreOffice profile in the scratch folder (so parallel workers never share
one), a time limit (the whole process group is killed) and an address-space bound.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

INSTALL_HINT = "apt-get install libreoffice-core-nogui (optional)"
OUTPUT_TAIL = 2000  # characters of the tool's output kept in error messages


class ConversionError(Exception):
    """LibreOffice ran but produced no output (failed, timed out or ran out of memory)."""


class ConversionUnavailable(ConversionError):
    """LibreOffice is not installed."""


def find_program(program: str = "soffice") -> str | None:
    """The program's path, or None when it is not installed."""
    return shutil.which(program)


def _memory_bound(memory_mb: int) -> Callable[[], None]:
    limit = memory_mb * 1024 * 1024

    def apply() -> None:  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def convert_with_libreoffice(
    source_path: Path,
    target_format: str,
    scratch: Path,
    timeout: float,
    memory_mb: int,
    program: str = "soffice",
) -> Path:
    """Convert ``source_path`` to ``target_format`` (e.g. "pdf", "txt:Text") in ``scratch``.

    Returns the converted file's path. ConversionUnavailable when the program is absent,
    ConversionError when it fails, exceeds ``timeout`` seconds or produces nothing.
    """
    executable = find_program(program)
    if executable is None:
        raise ConversionUnavailable(f"LibreOffice is not installed: {INSTALL_HINT}")
    outdir = scratch / "converted"
    outdir.mkdir(parents=True, exist_ok=True)
    profile = (scratch / "profile").resolve()
    command = [
        executable,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        target_format,
        "--outdir",
        str(outdir),
        str(source_path),
    ]
    environment = {**os.environ, "HOME": str(scratch)}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=scratch,
        env=environment,
        start_new_session=True,  # its own process group, so the timeout kills every helper
        preexec_fn=_memory_bound(memory_mb),
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as err:
        _kill_group(process)
        raise ConversionError(f"LibreOffice did not finish within {timeout:g} seconds") from err
    finally:
        _kill_group(process)  # helpers left running after the main process exits
    extension = target_format.split(":", 1)[0]
    produced = sorted(outdir.glob(f"*.{extension}"))
    if process.returncode != 0 or not produced:
        text = output.decode("utf-8", errors="replace")[-OUTPUT_TAIL:].strip()
        raise ConversionError(
            f"LibreOffice conversion to {extension} failed (exit {process.returncode}): {text}"
        )
    return produced[0]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait()
