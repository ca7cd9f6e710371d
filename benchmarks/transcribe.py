"""Transcription: word error rate per clip, and real-time factor against faster-whisper.

Every clip in ../shared/corpus/audio with a reference transcript (``NAME.txt`` beside
``NAME.mp3|.flac|.wav``) is transcribed twice in the same run, alternating: by caselens
(``transcribe_recording``: ffmpeg decoding to 16 kHz mono, chunks, deadline checks) and by
faster-whisper called directly on the file with the same model object and the same options
(``DECODE_OPTIONS``). WER is word-level Levenshtein distance over the reference's word count,
after lower-casing and removing punctuation (jiwer). Real-time factor = processing seconds /
audio seconds; the ratio is caselens's total over faster-whisper's (target ≤ 1.1). Medians of
--repeat runs. References marked "NOT a verified human transcript" (multilingual) and
per-channel references (stereo_diarization) are reported but flagged.

    python benchmarks/transcribe.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jiwer

from caselens.transcribe import DECODE_OPTIONS, model_version, transcribe_recording
from caselens.transcribe.model import load_model

ROOT = Path(__file__).resolve().parents[1]
AUDIO = (ROOT / ".." / "shared" / "corpus" / "audio").resolve()
RESULTS = ROOT / "benchmarks" / "results" / "transcribe.json"


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def reference_text(path: Path) -> tuple[str, str]:
    """The reference's words (section markers and comments dropped) and a note."""
    raw = path.read_text(encoding="utf-8")
    note = "unverified reference" if "NOT a verified" in raw else ""
    if "[left channel]" in raw:
        note = "two speakers, one per channel; mixed to mono"
    lines = [line for line in raw.splitlines() if not line.startswith(("#", "["))]
    return " ".join(lines), note


def clips() -> list[tuple[Path, Path]]:
    found = []
    for reference in sorted(AUDIO.glob("*.txt")):
        for suffix in (".flac", ".mp3", ".wav"):
            audio = reference.with_suffix(suffix)
            if audio.exists():
                found.append((audio, reference))
    return found


def word_error_rate(reference: str, hypothesis: str, language: str | None) -> float:
    ref, hyp = normalise(reference), normalise(hypothesis)
    if language in {"ja", "zh"} or not ref.count(" "):
        # No spaces between words: characters stand in for words (a character error rate).
        ref, hyp = " ".join(ref.replace(" ", "")), " ".join(hyp.replace(" ", ""))
    return float(jiwer.wer(ref, hyp))


def run_caselens(audio: Path) -> tuple[float, str, str | None]:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        transcript = transcribe_recording(audio, Path(scratch))
        seconds = time.perf_counter() - started
    return seconds, " ".join(s.text for s in transcript.segments), transcript.language


def run_direct(audio: Path) -> tuple[float, str, str | None]:
    model = load_model()
    started = time.perf_counter()
    segments, info = model.transcribe(str(audio), **DECODE_OPTIONS)
    text = " ".join(segment.text.strip() for segment in segments)
    return time.perf_counter() - started, text, info.language


def duration_of(audio: Path) -> float:
    import subprocess

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         f"file:{audio}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_model()  # loaded once, outside the timings, shared by both sides
    rows: list[dict[str, Any]] = []
    total_ours = total_direct = total_audio = 0.0
    for audio, reference_path in clips():
        reference, note = reference_text(reference_path)
        length = duration_of(audio)
        ours: list[float] = []
        direct: list[float] = []
        for _ in range(args.repeat):
            seconds, our_text, our_language = run_caselens(audio)
            ours.append(seconds)
            seconds, direct_text, direct_language = run_direct(audio)
            direct.append(seconds)
        row = {
            "file": audio.name,
            "seconds_audio": round(length, 2),
            "language": our_language,
            "wer": round(word_error_rate(reference, our_text, our_language), 3),
            "wer_direct": round(word_error_rate(reference, direct_text, direct_language), 3),
            "rtf": round(statistics.median(ours) / length, 3),
            "rtf_direct": round(statistics.median(direct) / length, 3),
            "note": note,
            "hypothesis": our_text,
        }
        row["ratio"] = round(row["rtf"] / row["rtf_direct"], 3)
        total_ours += statistics.median(ours)
        total_direct += statistics.median(direct)
        total_audio += length
        rows.append(row)
        print(
            f"{audio.name:42} {length:6.1f}s  lang {our_language}  WER {row['wer']:.3f} "
            f"(direct {row['wer_direct']:.3f})  RTF {row['rtf']:.3f} vs {row['rtf_direct']:.3f}"
            f"  ×{row['ratio']:.2f}  {note}",
            flush=True,
        )
    ratio = total_ours / total_direct
    print(
        f"all clips: {total_audio:.1f} s of audio, RTF caselens {total_ours / total_audio:.3f}, "
        f"faster-whisper {total_direct / total_audio:.3f}, ratio {ratio:.2f} (target ≤ 1.1)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "model_version": model_version(),
                "machine": platform.platform(),
                "repeat": args.repeat,
                "clips": rows,
                "rtf": round(total_ours / total_audio, 3),
                "rtf_direct": round(total_direct / total_audio, 3),
                "ratio": round(ratio, 3),
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    return 0 if ratio <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
