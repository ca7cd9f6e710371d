"""Identity resolution on the command line: candidates, judgements, canonical groups."""

from __future__ import annotations

from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state


def resolve(
    ctx: typer.Context,
    reference: str,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 50,
    include_judged: Annotated[
        bool, typer.Option("--all", help="Include pairs already judged.")
    ] = False,
    min_score: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.5,
    show_groups: Annotated[
        bool, typer.Option("--groups", help="Show the canonical entities judgements made.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Pairs of people, organisations or accounts that may be one, best first, with why."""
    current = state(ctx)
    if show_groups:
        groups = current.app.resolution.groups(current.actor, reference)
        if json_output:
            render.print_json(groups)
            return
        render.table(
            f"canonical entities of {reference}",
            ["canonical", "label", "members", "names", "identifiers", "items"],
            [
                (
                    g["canonical"][:12],
                    g["label"],
                    ", ".join(f"{m['id'][:12]} ({m['schema']})" for m in g["members"]),
                    "; ".join(g["names"][:6]),
                    ", ".join(g["identifiers"][:6]),
                    g["items"],
                )
                for g in groups
            ],
        )
        return
    found = current.app.resolution.candidates(
        current.actor, reference, limit=limit, include_judged=include_judged, min_score=min_score
    )
    if json_output:
        render.print_json(found)
        return
    if not found:
        render.console.print(f"no unjudged candidates in {reference}")
        return
    render.table(
        f"candidates in {reference} (judge with: caselens judge {reference} A B same|different)",
        ["score", "A", "B", "why", "judged"],
        [
            (
                f"{c['score']:.2f}",
                f"{c['left']['id'][:12]} {c['left']['label']}",
                f"{c['right']['id'][:12]} {c['right']['label']}",
                c["explanation"],
                c["judgement"] or "",
            )
            for c in found
        ],
    )


def judge(
    ctx: typer.Context,
    reference: str,
    left: str,
    right: str,
    judgement: Annotated[str, typer.Argument(help="same, different or unsure")],
    note: Annotated[str | None, typer.Option(help="Why: recorded with the judgement.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Record whether two entities (ids or 6+ character prefixes) are one."""
    current = state(ctx)
    result = current.app.resolution.judge(current.actor, reference, left, right, judgement, note)
    if json_output:
        render.print_json(result)
        return
    before = f" (was {result['previous']})" if result["previous"] else ""
    render.console.print(
        f"{result['left'][:12]} and {result['right'][:12]}: {judgement}{before}, "
        f"score {result['score']:.2f}"
    )
