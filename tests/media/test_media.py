"""Recorded statements: ffprobe metadata, transcripts from Whisper base, rows and review."""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import insert, select

from caselens.config import Settings
from caselens.db.schema import entities, items, log_records, transcripts
from caselens.errors import InvalidInput
from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.media import MediaIngestor, timestamp
from caselens.ingest.harness import extract
from caselens.transcribe import transcription_available, unavailable_reason
from caselens.transcribe.engine import decode_to_file, segment_confidence, transcribe_samples
from caselens.transcribe.rows import transcript_rows
from tests.conftest import ADMIN, CORPUS, needs_corpus, new_installation

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg is not installed (apt-get install ffmpeg)",
)
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)
needs_transcription = pytest.mark.skipif(
    not transcription_available(), reason=f"transcription unavailable: {unavailable_reason()}"
)
T = TypeVar("T")
PLUGIN = "caselens.ingest.formats.media:MediaIngestor"
STATEMENT = "My name is Jane Doe. On the fourth of March I saw a blue van parked outside the bank."


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def in_fresh_process(function: Callable[..., T], *args: Any) -> T:
    """Run where the model is loaded and dropped again: ingest workers are forked from the
    test process, and a fork of a process whose OpenMP threads (CTranslate2) have run hangs."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def extract_media(path: Path, work: Path) -> tuple[dict[str, Any], dict[int, str], list[str]]:
    found = extract(MediaIngestor, path, work)
    sink = found.sink
    found_properties = {"schema": sink.document_schema, "context": sink.document_context}
    return {**found_properties, **sink.document_properties}, sink.pages, sink.warnings


def speak(text: str, target: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "140", "-w", str(target), text], check=True)
    return target


@needs_ffmpeg
def test_sine_clip_metadata(tmp_path: Path) -> None:
    clip = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=22050", "-ac", "1",
           "-metadata", "title=Interview 7", "-metadata", "creation_time=2024-03-04T10:11:12Z",
           str(clip))  # fmt: skip
    properties, _pages, _warnings = in_fresh_process(extract_media, clip, tmp_path / "work")
    assert properties["schema"] == "Audio"
    assert properties["duration"] == ["2"]
    assert properties["samplingRate"] == ["22050"]
    assert properties["title"] == ["Interview 7"]
    context = properties["context"]
    assert context["container"] == "wav"
    assert context["duration"] == 2.0
    assert context["streams"] == [
        {
            "index": 0,
            "type": "audio",
            "codec": "pcm_s16le",
            "codec_name": "PCM signed 16-bit little-endian",
            "duration": 2.0,
            "bit_rate": 352800,
            "sample_rate": 22050,
            "channels": 1,
        }
    ]


@needs_ffmpeg
def test_video_with_sound_is_a_video_with_its_streams_and_creation_time(tmp_path: Path) -> None:
    clip = tmp_path / "interview.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10",
           "-f", "lavfi", "-i", "sine=duration=1:sample_rate=16000",
           "-metadata", "creation_time=2024-03-04T10:11:12.000000Z", "-shortest",
           "-c:v", "mpeg4", "-c:a", "aac", str(clip))  # fmt: skip
    properties, _pages, _warnings = in_fresh_process(extract_media, clip, tmp_path / "work")
    assert properties["schema"] == "Video"
    assert properties["authoredAt"] == ["2024-03-04T10:11:12"]
    context = properties["context"]
    assert context["created"] == {"utc": "2024-03-04T10:11:12", "time_zone": "UTC"}
    kinds = [(s["type"], s["codec"]) for s in context["streams"]]
    assert kinds == [("video", "mpeg4"), ("audio", "aac")]
    assert context["streams"][0]["width"] == 160
    assert context["streams"][0]["height"] == 120


@needs_ffmpeg
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("statement.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\x00garbage" * 50),
        ("statement.wav", b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"),
    ],
)
def test_broken_recording_fails_with_a_clear_reason(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BrokenFile) as failure:
        extract(MediaIngestor, path, tmp_path / "work")
    message = str(failure.value)
    assert message.startswith(("not a readable recording (ffprobe: ", "no audio or video stream"))
    assert str(tmp_path) not in message  # the blob store's path says nothing to a reader


@needs_ffmpeg
def test_missing_transcription_is_a_warning_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(clip))
    only_ffprobe = tmp_path / "bin"
    only_ffprobe.mkdir()
    (only_ffprobe / "ffprobe").symlink_to(str(shutil.which("ffprobe")))
    monkeypatch.setenv("PATH", str(only_ffprobe))  # ffmpeg itself is missing
    found = extract(MediaIngestor, clip, tmp_path / "work")
    assert found.sink.document_schema == "Audio"
    assert found.sink.warnings == [
        "not transcribed: ffmpeg is not installed (apt-get install ffmpeg)"
    ]
    assert found.sink.pages == {}
    assert "transcript" not in found.sink.document_context


def test_timestamps_and_confidence() -> None:
    assert timestamp(83.46) == "00:01:23.4"
    assert timestamp(3599.99) == "00:59:59.9"
    assert timestamp(3600) == "01:00:00.0"
    assert segment_confidence(0.0, 0.0) == 1.0
    assert segment_confidence(-0.2772, 0.0818) == 0.696
    assert segment_confidence(-5.0, 1.0) == 0.0


@needs_ffmpeg
@needs_espeak
@needs_transcription
def test_spoken_statement_is_transcribed_per_segment(tmp_path: Path) -> None:
    clip = speak(STATEMENT, tmp_path / "statement.wav")
    properties, pages, warnings = in_fresh_process(extract_media, clip, tmp_path / "work")
    assert warnings == []
    transcript = properties["context"]["transcript"]
    assert transcript["language"] == "en"
    assert transcript["model"] == "whisper-base"
    assert "faster-whisper" in transcript["model_version"]
    heard = words(" ".join(s["text"] for s in transcript["segments"]))
    for expected in ("my name is jane", "march", "blue van parked outside"):
        assert expected in heard
    first = transcript["segments"][0]
    assert pages[1].startswith(f"[{timestamp(first['start'])}–")
    assert 0.0 < first["confidence"] <= 1.0
    assert properties["language"] == ["en"]


@needs_corpus
@needs_ffmpeg
@needs_transcription
def test_jfk_in_chunks_with_progress_and_a_deadline(tmp_path: Path) -> None:
    in_fresh_process(check_jfk_in_chunks, tmp_path)


def check_jfk_in_chunks(tmp_path: Path) -> None:
    samples = tmp_path / "jfk.f32"
    assert decode_to_file(CORPUS / "audio" / "jfk.flac", samples) == 176000
    seen: list[float] = []
    whole = transcribe_samples(samples, progress=lambda done, total: seen.append(done))
    assert "ask not what your country can do for you" in words(whole.segments[0].text)
    assert whole.complete and seen[-1] == 11.0
    # Short chunks: the words cut at a chunk's end are heard again in the next one.
    chunked = transcribe_samples(samples, chunk_seconds=7, overlap=3)
    assert len(chunked.segments) >= 2
    joined = words(" ".join(s.text for s in chunked.segments))
    assert "fellow americans" in joined and "for your country" in joined
    starts = [s.start for s in chunked.segments]
    assert starts == sorted(starts)
    # A deadline already reached stops after the first segment, saying so.
    cut = transcribe_samples(samples, deadline=time.monotonic(), chunk_seconds=7, overlap=3)
    assert not cut.complete
    assert cut.transcribed_until < 11.0


def test_transcript_rows_from_the_context() -> None:
    context = {
        "transcript": {
            "model": "whisper-base",
            "model_version": "v",
            "language": "en",
            "language_probability": 0.9,
            "duration": 11.0,
            "complete": True,
            "segments": [
                {"number": 1, "start": 0.0, "end": 2.5, "text": "hello", "confidence": 0.8}
            ],
        }
    }
    transcript, segments = transcript_rows("a" * 32, 0, context) or ({}, [])
    assert transcript["review_state"] == "machine"
    assert transcript["language_probability"] == 0.9
    assert segments == [
        {"item_id": "a" * 32, "generation": 0, "number": 1, "start": 0.0, "end": 2.5,
         "text": "hello", "confidence": 0.8}
    ]  # fmt: skip
    assert transcript_rows("a" * 32, 0, {"container": "wav"}) is None


@needs_ffmpeg
@needs_espeak
@needs_transcription
def test_statement_ingested_into_a_case_then_shown_and_reviewed(
    tmp_path: Path, settings: Settings, database_url: str | None
) -> None:
    from caselens.services.transcripts import TranscriptService

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    speak(STATEMENT, evidence / "statement.wav")
    app = new_installation(
        tmp_path / "home2",
        database_url,
        ingestor_plugins=[PLUGIN],
        item_timeout=120,
        workers=1,
        item_memory_mb=4096,
    )
    try:
        app.ingest.ingest(ADMIN, "C", [str(evidence)])
        engine = app.runtime.engine
        with engine.begin() as connection:
            item = connection.execute(select(items).where(items.c.name == "statement.wav")).one()
            assert (item.state, item.format, item.error) == ("ingested", "media", None)
            context = connection.execute(
                select(entities.c.context).where(
                    entities.c.item_id == item.id, entities.c.schema == "Audio"
                )
            ).scalar_one()
            stored = connection.execute(
                select(transcripts).where(transcripts.c.item_id == item.id)
            ).first()
            if stored is None:  # until the writer stores transcripts itself
                context = json.loads(context) if isinstance(context, str) else context
                rows = transcript_rows(item.id, item.generation, context)
                assert rows is not None
                connection.execute(insert(transcripts), [rows[0]])
                from caselens.db.schema import transcript_segments

                connection.execute(insert(transcript_segments), rows[1])
        service = TranscriptService(app.runtime)
        shown = service.show(ADMIN, "C", item.id)
        assert shown["review_state"] == "machine"
        assert "blue van" in words(" ".join(s["text"] for s in shown["segments"]))
        with pytest.raises(InvalidInput):
            service.review(ADMIN, "C", item.id, "machine")
        reviewed = service.review(ADMIN, "C", item.id, "corrected", note="name is Doe")
        assert (reviewed["review_state"], reviewed["reviewed_by"]) == ("corrected", "admin")
        assert reviewed["review_note"] == "name is Doe"
        with engine.connect() as connection:
            actions = connection.execute(
                select(log_records.c.action).where(log_records.c.item_id == item.id)
            ).scalars()
            assert "transcript.reviewed" in list(actions)
    finally:
        app.close()


@needs_ffmpeg
@needs_transcription
def test_too_small_memory_limit_is_a_warning_in_the_worker(
    tmp_path: Path, database_url: str | None
) -> None:
    """A 2 GiB parser limit cannot hold the model: the item stays ingested, with a warning."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(evidence / "tone.wav"))
    app = new_installation(
        tmp_path / "home3", database_url, ingestor_plugins=[PLUGIN], workers=1, item_memory_mb=2048
    )
    try:
        app.ingest.ingest(ADMIN, "C", [str(evidence)])
        with app.runtime.engine.connect() as connection:
            item = connection.execute(select(items).where(items.c.name == "tone.wav")).one()
        assert item.state == "ingested"
        [warning] = item.warnings
        assert re.fullmatch(
            r"not transcribed: the parser memory limit leaves \d+ MiB, below the 3072 MiB "
            r"the model needs \(raise item_memory_mb\)",
            warning,
        )
    finally:
        app.close()
