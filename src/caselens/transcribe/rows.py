"""Database rows of a transcript, from the context the media ingestor puts on the item.

The ingestor runs in a worker process and never touches the database; the writer turns
``document_context["transcript"]`` into one ``transcripts`` row and its segments.
"""

from __future__ import annotations

from typing import Any

TranscriptRows = tuple[dict[str, Any], list[dict[str, Any]]]


def transcript_rows(
    item_id: str, generation: int, context: dict[str, Any]
) -> TranscriptRows | None:
    """Rows for ``transcripts`` and ``transcript_segments``; None when there is no transcript.

    ``context`` is the item's document context (or its "transcript" member).
    """
    found = context.get("transcript", context)
    if not isinstance(found, dict) or "segments" not in found:
        return None
    transcript = {
        "item_id": item_id,
        "generation": generation,
        "model": str(found.get("model") or "unknown"),
        "model_version": str(found.get("model_version") or "unknown"),
        "language": found.get("language"),
        "language_probability": _number(found.get("language_probability")),
        "duration": _number(found.get("duration")),
        "complete": bool(found.get("complete", True)),
        "review_state": "machine",
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": None,
    }
    segments = [
        {
            "item_id": item_id,
            "generation": generation,
            "number": int(segment["number"]),
            "start": float(segment["start"]),
            "end": float(segment["end"]),
            "text": str(segment["text"]),
            "confidence": _number(segment.get("confidence")),
        }
        for segment in found["segments"]
    ]
    return transcript, segments


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
