"""The names command: people, organisations and places of a case, ranked and drilled into."""

from __future__ import annotations

from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.mail import print_places
from caselens.cli.state import state
from caselens.errors import InvalidInput
from caselens.extract.names import names_available


def names(
    ctx: typer.Context,
    reference: str,
    kind: Annotated[str | None, typer.Option(help="person, organization or location.")] = None,
    value: Annotated[
        str | None,
        typer.Option(help="Show where this name appears (as written, or its fingerprint)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Names ranked by the number of items they appear in, spellings and scripts counted
    together; --kind and --value drill down."""
    current = state(ctx)
    if value is not None:
        if kind is None:
            raise InvalidInput('give --kind with --value (e.g. --kind person --value "Jane Doe")')
        rows = current.app.names.items(current.actor, reference, kind, value, limit=limit)
        print_places(f"{kind} {value} in {reference}", rows, json_output)
        return
    ranked = current.app.names.ranked(current.actor, reference, kind=kind, limit=limit)
    if json_output:
        render.print_json(ranked)
        return
    if not ranked and not names_available():
        render.errors.print(
            "no names: the name extractor is not installed (pip install 'caselens[names]', "
            f"then caselens reprocess {reference})"
        )
    render.table(
        f"names in {reference}",
        ["kind", "name", "spellings", "items", "mentions", "fingerprint"],
        [
            (r["kind"], r["name"], r["spellings"], r["items"], r["mentions"], r["value"])
            for r in ranked
        ],
    )
