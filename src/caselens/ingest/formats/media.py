"""Audio and video recordings: stream metadata with ffprobe, then a transcript when the
``transcribe`` extra is installed.

Each transcript segment is one text page ("[00:01:23.4–00:01:27.0] words"), so a search
hit's page number is the segment and points to its time in the recording; the segments
with their confidence go to the item's context for the transcripts table.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import time
from datetime import datetime
from typing import Any, ClassVar

from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.archives_tool import run, tool
from caselens.ingest.formats.phone.times import Moment, from_aware, from_local
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

log = logging.getLogger(__name__)

PROBE_SECONDS = 60.0
# Demuxers that read other files named inside the evidence, or that are pictures.
_REFUSED_FORMATS = frozenset({"hls", "concat", "image2", "image2pipe", "tty", "lavfi"})
_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp", "tiff", "jpeg2000"})


class MediaIngestor(Ingestor):
    name = "media"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {
            "application/ogg",
            "application/x-matroska",
            "application/mxf",
            "application/vnd.rn-realmedia",
        }
    )
    extensions: ClassVar[frozenset[str]] = frozenset(
        {
            ".mp3", ".wav", ".flac", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wma", ".amr",
            ".3ga", ".aif", ".aiff", ".caf", ".mka", ".mp4", ".m4v", ".mov", ".avi", ".mkv",
            ".webm", ".wmv", ".mpg", ".mpeg", ".3gp", ".3g2", ".flv", ".mts", ".m2ts", ".vob",
        }
    )  # fmt: skip
    signatures: ClassVar[tuple[bytes, ...]] = (b"fLaC", b"OggS", b"#!AMR", b"\x1aE\xdf\xa3")
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        if source.mime_type.startswith(("audio/", "video/")):
            return cls.base_score + 2
        return super().score(source)

    def ingest(self, source: Source, sink: Sink) -> None:
        if tool("ffprobe") is None:
            raise NotMyFormat  # recorded by the fallback with its hashes
        probe = _probe(source)
        streams = [s for s in probe.get("streams", []) if isinstance(s, dict)]
        audio = [s for s in streams if s.get("codec_type") == "audio"]
        video = [s for s in streams if _is_moving_picture(s)]
        if not audio and not video:
            raise BrokenFile("no audio or video stream found (ffprobe)")
        media_format = probe.get("format") if isinstance(probe.get("format"), dict) else {}
        assert isinstance(media_format, dict)
        duration = _seconds(media_format.get("duration"))
        sink.set_document("Video" if video else "Audio", duration=_text(duration))
        if audio and not video:
            sink.add_property("samplingRate", str(audio[0].get("sample_rate") or "") or None)
        tags = _tags(media_format)
        sink.add_property("title", tags.get("title"))
        sink.add_property("author", tags.get("artist") or tags.get("author"))
        sink.add_property("generator", tags.get("encoder"))
        created = _creation_time(tags.get("creation_time"), source.timezone)
        if created is not None:
            sink.add_property("authoredAt", created.iso)
        sink.document_context.update(
            _metadata(media_format, streams, duration, created, probe.get("chapters"))
        )
        _transcribe(source, sink, has_audio=bool(audio))


def _probe(source: Source) -> dict[str, Any]:
    command = [
        "ffprobe", "-v", "error", "-hide_banner", "-protocol_whitelist", "file",
        "-print_format", "json", "-show_format", "-show_streams", "-show_chapters",
        f"file:{source.path}",
    ]  # fmt: skip
    done = run(command, timeout=min(PROBE_SECONDS, _time_left() or PROBE_SECONDS))
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()
        detail = reason[-1] if reason else f"exit code {done.returncode}"
        detail = detail.replace(f"file:{source.path}: ", "").replace(str(source.path), "file")
        raise BrokenFile(f"not a readable recording (ffprobe: {detail})")
    try:
        found = json.loads(done.stdout)
    except ValueError as err:
        raise BrokenFile("ffprobe gave no readable description of the recording") from err
    if not isinstance(found, dict):
        raise BrokenFile("ffprobe gave no readable description of the recording")
    format_name = str((found.get("format") or {}).get("format_name") or "")
    if _REFUSED_FORMATS.intersection(format_name.split(",")):
        raise NotMyFormat
    return found


def _is_moving_picture(stream: dict[str, Any]) -> bool:
    """A video stream that is not just cover art (an MP3's embedded picture)."""
    if stream.get("codec_type") != "video":
        return False
    disposition = stream.get("disposition") or {}
    if isinstance(disposition, dict) and disposition.get("attached_pic"):
        return False
    return stream.get("codec_name") not in _PICTURE_CODECS


def _metadata(
    media_format: dict[str, Any],
    streams: list[dict[str, Any]],
    duration: float | None,
    created: Moment | None,
    chapters: Any,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "container": media_format.get("format_name"),
        "container_name": media_format.get("format_long_name"),
        "duration": duration,
        "bit_rate": _integer(media_format.get("bit_rate")),
        "streams": [_stream(stream) for stream in streams],
    }
    tags = _tags(media_format)
    if tags:
        context["tags"] = tags
    if created is not None:
        context["created"] = {"utc": created.iso, **created.context()}
    if isinstance(chapters, list) and chapters:
        context["chapters"] = len(chapters)
    return {key: value for key, value in context.items() if value is not None}


def _stream(stream: dict[str, Any]) -> dict[str, Any]:
    found = {
        "index": stream.get("index"),
        "type": stream.get("codec_type"),
        "codec": stream.get("codec_name"),
        "codec_name": stream.get("codec_long_name"),
        "duration": _seconds(stream.get("duration")),
        "bit_rate": _integer(stream.get("bit_rate")),
        "sample_rate": _integer(stream.get("sample_rate")),
        "channels": _integer(stream.get("channels")),
        "channel_layout": stream.get("channel_layout"),
        "width": _integer(stream.get("width")),
        "height": _integer(stream.get("height")),
        "frame_rate": stream.get("avg_frame_rate") if stream.get("codec_type") == "video" else None,
        "language": _tags(stream).get("language"),
    }
    return {key: value for key, value in found.items() if value not in (None, "", "0/0")}


def _transcribe(source: Source, sink: Sink, *, has_audio: bool) -> None:
    if not has_audio:
        return
    # Settings may turn transcription off; the lead passes it on the Source.
    if not source.transcribe:
        return
    from caselens import transcribe

    reason = transcribe.unavailable_reason() or transcribe.memory_problem()
    if reason is not None:
        sink.warn(f"not transcribed: {reason}")
        return
    left = _time_left()
    deadline = time.monotonic() + left if left else None
    with source.scratch() as folder:
        try:
            transcript = transcribe.transcribe_recording(
                source.path, folder, deadline=deadline, progress=_progress_logger(source)
            )
        except transcribe.DecodeFailed as err:
            sink.warn(f"not transcribed: the audio could not be decoded ({err})")
            return
        except transcribe.ModelUnavailable as err:
            sink.warn(f"not transcribed: {err.message}")
            return
        except (RuntimeError, ValueError, OSError) as err:  # the model runtime's own errors
            sink.warn(f"not transcribed: {type(err).__name__}: {err}")
            return
    if not transcript.complete:
        sink.warn(
            f"transcript incomplete: stopped at {timestamp(transcript.transcribed_until)} of "
            f"{timestamp(transcript.duration)} (limit item_timeout)"
        )
    for segment in transcript.segments:
        sink.add_text(
            f"[{timestamp(segment.start)}–{timestamp(segment.end)}] {segment.text}",
            page=segment.number,
        )
    if transcript.language:
        sink.add_property("language", transcript.language)
    sink.page_count = len(transcript.segments) or None
    sink.document_context["transcript"] = {
        "model": transcribe.MODEL_NAME,
        "model_version": transcribe.model_version(),
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "duration": transcript.duration,
        "transcribed_until": transcript.transcribed_until,
        "complete": transcript.complete,
        "review_state": "machine",
        "segments": [
            {
                "number": s.number,
                "page": s.number,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "confidence": s.confidence,
                "avg_logprob": s.avg_logprob,
                "no_speech_prob": s.no_speech_prob,
            }
            for s in transcript.segments
        ],
    }


def timestamp(seconds: float) -> str:
    """00:01:23.4: hours, minutes, seconds to the tenth (rounded down, never to 60.0)."""
    tenths = max(0, int(seconds * 10 + 1e-6))
    hours, rest = divmod(tenths, 36000)
    minutes, rest = divmod(rest, 600)
    return f"{hours:02d}:{minutes:02d}:{rest // 10:02d}.{rest % 10}"


def _progress_logger(source: Source) -> Any:
    last = [0.0]

    def report(done: float, total: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 10 or done >= total:
            last[0] = now
            share = 100 * done / total if total else 100.0
            log.info("transcribing %s: %s of %s (%.0f%%)", source.item_id, timestamp(done),
                     timestamp(total), share)  # fmt: skip

    return report


def _time_left() -> float | None:
    """Seconds until the worker's per-item alarm fires, or None when none is set."""
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    return remaining if remaining > 0 else None


def _creation_time(value: str | None, zone: str | None) -> Moment | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return from_aware(parsed) if parsed.tzinfo else from_local(parsed, zone)


def _tags(holder: dict[str, Any]) -> dict[str, str]:
    tags = holder.get("tags")
    if not isinstance(tags, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in tags.items() if v not in (None, "")}


def _seconds(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 3) if math.isfinite(number) and number >= 0 else None


def _integer(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"
