"""The hits command: selectors of a case that other cases hold too, under need-to-know."""

from __future__ import annotations

from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state


def hits(
    ctx: typer.Context,
    reference: str,
    new_only: Annotated[bool, typer.Option("--new", help="Only hits not listed before.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 1000,
    json_output: JsonOption = False,
) -> None:
    """Selectors of the case also seen in other cases. Where you are a member of the other
    case you see its side; otherwise only whom to contact there."""
    current = state(ctx)
    found = current.app.hits.list(current.actor, reference, new_only=new_only, limit=limit)
    if json_output:
        render.print_json([hit.as_dict() for hit in found])
        return
    if not found:
        render.console.print(f"no {'new ' if new_only else ''}cross-case hits for {reference}")
        return
    render.table(
        f"cross-case hits of {reference}",
        ["", "kind", "selector", "items here", "other case", "there"],
        [
            (
                "new" if hit.new else "",
                hit.kind,
                hit.value,
                hit.items,
                hit.other_case,
                hit.notice
                if hit.other is None
                else f"{hit.other.title} ({hit.other.status}): {hit.other.items} items",
            )
            for hit in found
        ],
    )
