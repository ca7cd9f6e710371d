"""The transcript command: read a recording's transcript, and record its review.

``caselens transcript REF ITEM`` shows it; ``caselens transcript review REF ITEM --state
reviewed|corrected|rejected [--note TEXT]`` records a person's judgement.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.errors import InvalidInput
from caselens.ingest.formats.media import timestamp


class ReviewState(StrEnum):
    REVIEWED = "reviewed"
    CORRECTED = "corrected"
    REJECTED = "rejected"


def transcript(
    ctx: typer.Context,
    words: Annotated[list[str], typer.Argument(metavar="[review] REF ITEM", show_default=False)],
    review_state: Annotated[
        ReviewState | None,
        typer.Option("--state", help="With review: reviewed, corrected or rejected."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="With review: why, recorded.")] = None,
    json_output: JsonOption = False,
) -> None:
    """An item's transcript (model, language, review state, segments with their time and
    confidence); "transcript review REF ITEM --state S" records a person's review."""
    reviewing = words[:1] == ["review"]
    arguments = words[1:] if reviewing else words
    if len(arguments) != 2:
        raise InvalidInput("usage: caselens transcript [review] REF ITEM")
    reference, item = arguments
    current = state(ctx)
    service = current.app.transcripts
    if not reviewing:
        if review_state is not None or note is not None:
            raise InvalidInput("--state and --note go with: caselens transcript review REF ITEM")
        _show(service.show(current.actor, reference, item), json_output)
        return
    if review_state is None:
        raise InvalidInput("give --state reviewed, corrected or rejected")
    found = service.review(current.actor, reference, item, review_state.value, note)
    if json_output:
        render.print_json(found)
        return
    render.console.print(
        f"transcript of {found['name']} ({found['item_id']}): {found['review_state']} "
        f"by {found['reviewed_by']}",
        highlight=False,
    )


def _show(found: dict[str, Any], json_output: bool) -> None:
    if json_output:
        render.print_json(found)
        return
    language = found["language"] or "?"
    if found["language_probability"] is not None:
        language += f" (p={found['language_probability']:.2f})"
    review_line = found["review_state"]
    if found["reviewed_by"]:
        review_line += f" by {found['reviewed_by']} at {found['reviewed_at']:%Y-%m-%d %H:%M:%S} UTC"
    render.console.print(
        f"transcript of {found['name']} ({found['item_id']})\n"
        f"  model: {found['model']} [{found['model_version']}]\n"
        f"  language: {language}; review: {review_line}"
        + ("" if found["complete"] else "\n  incomplete: cut at the time limit"),
        highlight=False,
        markup=False,
    )
    render.table(
        None,
        ["#", "time", "confidence", "text"],
        [
            (
                s["number"],
                f"{timestamp(s['start'])}–{timestamp(s['end'])}",
                "" if s["confidence"] is None else f"{s['confidence']:.2f}",
                s["text"],
            )
            for s in found["segments"]
        ],
    )
