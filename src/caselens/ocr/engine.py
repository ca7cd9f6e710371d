"""The tesseract command-line tool: where it is, which language packs it has, one run.

The CLI is used rather than a binding to libtesseract: a tool process can be stopped at
the item's time limit (a C call cannot), a crash on a hostile image costs one page, not
the worker, and nothing has to be compiled. The process start costs about 0.1 s a page.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

# One OpenMP thread: the ingest pool already runs one parser per core, and tesseract's
# threads fight over the cores (three times slower on two shared cores, measured).
TOOL_ENV_OVERRIDES = {"OMP_THREAD_LIMIT": "1", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
LIST_TIMEOUT = 30.0
# Names of tesseract's traineddata files: "eng", "chi_sim", "script/Latin".
_LANGUAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z][A-Za-z0-9_]*)?$")
_VERSION = re.compile(rb"tesseract\s+v?(\d+(?:\.\d+)*)")
INSTALL_HINT = "apt-get install tesseract-ocr"


class OcrError(Exception):
    """OCR could not be done; the message says why, in words for the item's warnings."""


class OcrTimeout(OcrError):
    """Tesseract ran past the time it was given."""


@dataclass(frozen=True, slots=True)
class Tesseract:
    """An installed tesseract: its path, version and the language packs it has."""

    path: str
    version: str
    languages: frozenset[str]

    @property
    def name(self) -> str:
        return f"tesseract {self.version}"


@dataclass(frozen=True, slots=True)
class LanguagePlan:
    """Which requested language packs can be used, and what to tell about the others."""

    usable: tuple[str, ...]
    problems: tuple[str, ...]


def tool_environment() -> dict[str, str]:
    return {**os.environ, **TOOL_ENV_OVERRIDES}


def find_tesseract() -> Tesseract | None:
    """The tesseract on PATH, or None when there is none (or it does not run)."""
    path = shutil.which("tesseract")
    if path is None:
        return None
    return _describe(path, os.environ.get("TESSDATA_PREFIX", ""))


@functools.lru_cache(maxsize=8)
def _describe(path: str, tessdata: str) -> Tesseract | None:
    """Version and language packs of one binary (asked once per process and data folder)."""
    del tessdata  # part of the cache key only: another folder has other packs
    try:
        version = subprocess.run(
            [path, "--version"],
            capture_output=True,
            timeout=LIST_TIMEOUT,
            env=tool_environment(),
            stdin=subprocess.DEVNULL,
        )
        listing = subprocess.run(
            [path, "--list-langs"],
            capture_output=True,
            timeout=LIST_TIMEOUT,
            env=tool_environment(),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(version.stdout + version.stderr)
    if listing.returncode != 0:
        return None
    # The first line names the data folder; the packs follow, one a line.
    lines = listing.stdout.decode("utf-8", "replace").splitlines()[1:]
    languages = frozenset(line.strip() for line in lines if _LANGUAGE_NAME.match(line.strip()))
    return Tesseract(path, found.group(1).decode() if found else "unknown", languages)


def debian_package(language: str) -> str:
    """The Debian package that carries a language pack ("chi_sim" -> tesseract-ocr-chi-sim)."""
    if language.startswith("script/"):
        return "tesseract-ocr-script-*"  # named by ISO 15924 code: script/Latin is -latn
    return "tesseract-ocr-" + language.lower().replace("_", "-")


def plan_languages(tesseract: Tesseract, requested: tuple[str, ...]) -> LanguagePlan:
    """Keep the requested packs tesseract has; name the missing ones and how to get them."""
    usable: list[str] = []
    problems: list[str] = []
    for language in requested:
        if not _LANGUAGE_NAME.match(language):
            problems.append(f"{language!r} is not a tesseract language name")
        elif language not in tesseract.languages:
            problems.append(
                f"language pack {language!r} missing (apt-get install {debian_package(language)})"
            )
        elif language not in usable:
            usable.append(language)
    return LanguagePlan(tuple(usable), tuple(problems))


def run_tesseract(
    tesseract: Tesseract,
    image: bytes,
    languages: tuple[str, ...],
    dpi: int | None,
    timeout: float,
) -> str:
    """Tesseract's TSV (words with boxes and confidences) for an encoded image (PNM, PNG).

    Raises OcrTimeout past ``timeout`` seconds and OcrError when tesseract fails.
    """
    if timeout <= 0:
        raise OcrTimeout("no time left for OCR (limit item_timeout)")
    args = [tesseract.path, "stdin", "stdout", "-l", "+".join(languages), "--psm", "3"]
    if dpi:
        args += ["--dpi", str(dpi)]
    try:
        done = subprocess.run(
            [*args, "tsv"],
            input=image,
            capture_output=True,
            timeout=timeout,
            env=tool_environment(),
            start_new_session=True,  # no controlling terminal; killed alone on timeout
        )
    except subprocess.TimeoutExpired as err:
        raise OcrTimeout(f"tesseract ran longer than {timeout:.3g} s (limit item_timeout)") from err
    except OSError as err:
        raise OcrError(f"tesseract could not be started: {err.strerror or err}") from err
    if done.returncode < 0:
        raise OcrError(f"tesseract died (signal {-done.returncode}): {_last_line(done.stderr)}")
    if done.returncode != 0:
        raise OcrError(f"tesseract failed (exit {done.returncode}): {_last_line(done.stderr)}")
    return done.stdout.decode("utf-8", "replace")


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    kept = [line for line in lines if line]
    return kept[-1][:200] if kept else "no message"
