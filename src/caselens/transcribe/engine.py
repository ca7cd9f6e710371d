"""Speech to text with faster-whisper, in chunks, with progress and a time budget.

The recording is decoded once by ffmpeg into 16 kHz mono samples in a scratch file and
read back through a memory map, so an hours-long statement never has to fit in memory.
Each chunk is handed to faster-whisper, whose segment generator streams; between
segments the time left is checked, and a transcript cut short says where it stops.
"""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caselens.transcribe.model import load_model

SAMPLE_RATE = 16000
CHUNK_SECONDS = 600.0
# A chunk's last window may end mid-word: segments ending this close to the chunk's end
# are dropped and the next chunk starts where the last kept segment ended.
CHUNK_OVERLAP = 30.0
# The same options for caselens and for faster-whisper called directly in the benchmark.
DECODE_OPTIONS: dict[str, Any] = {"beam_size": 5, "vad_filter": True}

Progress = Callable[[float, float], None]  # (seconds transcribed, duration)


class DecodeFailed(Exception):
    """ffmpeg could not turn the recording into audio samples."""


@dataclass(frozen=True, slots=True)
class Segment:
    number: int  # 1-based, in order of time
    start: float  # seconds from the start of the recording
    end: float
    text: str
    confidence: float  # 0..1, see segment_confidence
    avg_logprob: float
    no_speech_prob: float


@dataclass(slots=True)
class Transcript:
    language: str | None
    language_probability: float | None
    duration: float
    segments: list[Segment] = field(default_factory=list)
    transcribed_until: float = 0.0  # seconds of the recording covered
    complete: bool = True


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """The mean token probability, discounted by the chance that there was no speech."""
    probability = math.exp(min(0.0, avg_logprob)) * (1.0 - min(max(no_speech_prob, 0.0), 1.0))
    return round(probability, 3)


def decode_to_file(recording: Path, target: Path, timeout: float | None = None) -> int:
    """Write the first audio stream as 16 kHz mono float32 samples; returns their count."""
    command = [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-protocol_whitelist",
        "file",  # evidence may be a playlist naming other files or URLs: local files only
        "-i",
        f"file:{recording}",
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-f",
        "f32le",
        "-y",
        f"file:{target}",
    ]
    try:
        completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise DecodeFailed("decoding the audio took too long") from err
    except OSError as err:
        raise DecodeFailed(f"cannot run ffmpeg: {err}") from err
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DecodeFailed(message[-1] if message else f"ffmpeg exit code {completed.returncode}")
    return target.stat().st_size // 4


def transcribe_samples(
    samples_file: Path,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
    threads: int = 0,
    chunk_seconds: float = CHUNK_SECONDS,
    overlap: float = CHUNK_OVERLAP,
) -> Transcript:
    """Transcribe decoded samples chunk by chunk; ``deadline`` is a time.monotonic() value."""
    import numpy as np

    model = load_model(threads)
    samples = np.memmap(samples_file, dtype=np.float32, mode="r")
    duration = len(samples) / SAMPLE_RATE
    transcript = Transcript(None, None, round(duration, 3))
    chunk = int(chunk_seconds * SAMPLE_RATE)
    start = 0
    slowest = 0.0  # longest wait for one segment so far: the margin kept before the deadline
    while start < len(samples):
        last_chunk = start + chunk >= len(samples)
        audio = np.ascontiguousarray(samples[start : start + chunk])
        offset = start / SAMPLE_RATE
        keep_until = len(audio) / SAMPLE_RATE - (0.0 if last_chunk else overlap)
        options = dict(DECODE_OPTIONS)
        if transcript.language is not None:
            options["language"] = transcript.language  # detected once, on the first chunk
        waited = time.monotonic()
        segments, info = model.transcribe(audio, **options)
        if transcript.language is None:
            transcript.language = info.language
            transcript.language_probability = round(float(info.language_probability), 3)
        next_start = start + max(1, int(keep_until * SAMPLE_RATE))
        for kept, found in enumerate(segments):
            now = time.monotonic()
            slowest = max(slowest, now - waited)
            waited = now
            if found.end > keep_until:
                if kept:  # redo it from its start in the next chunk, with what follows
                    next_start = start + int(found.start * SAMPLE_RATE)
                    break
                # Nothing kept yet (a chunk shorter than a segment): keep it rather than loop.
                next_start = start + max(1, int(found.end * SAMPLE_RATE))
            text = found.text.strip()
            if text:
                transcript.segments.append(
                    Segment(
                        number=len(transcript.segments) + 1,
                        start=round(offset + found.start, 2),
                        end=round(offset + found.end, 2),
                        text=text,
                        confidence=segment_confidence(found.avg_logprob, found.no_speech_prob),
                        avg_logprob=round(found.avg_logprob, 4),
                        no_speech_prob=round(found.no_speech_prob, 4),
                    )
                )
            transcript.transcribed_until = round(offset + found.end, 2)
            if progress is not None:
                progress(transcript.transcribed_until, duration)
            if deadline is not None and deadline - time.monotonic() < max(5.0, 2 * slowest):
                transcript.complete = False
                return transcript
        if last_chunk:
            break
        start = next_start
    if progress is not None and transcript.transcribed_until < round(duration, 2):
        progress(duration, duration)
    transcript.transcribed_until = round(duration, 2)
    return transcript
