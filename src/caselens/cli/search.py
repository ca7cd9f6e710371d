"""Commands of full-text search: search a case, rebuild its index."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state

HISTOGRAM_MONTHS = 24  # longer spans are shown by year


def search(
    ctx: typer.Context,
    reference: str,
    query: str,
    facets: Annotated[
        bool,
        typer.Option(
            "--facets", help="Count matches by type, date, sender, language, identifier kind."
        ),
    ] = False,
    page: Annotated[int, typer.Option(min=1)] = 1,
    size: Annotated[int, typer.Option(min=1, max=100)] = 20,
    json_output: JsonOption = False,
) -> None:
    """Search a case's items (the query language is in the README: words, "phrases",
    AND/OR/NOT, prefix*, from: to: subject: type: lang: has: date: phone: iban: ...)."""
    current = state(ctx)
    answer = current.app.search.search(
        current.actor, reference, query, page=page, size=size, facets=facets
    )
    if json_output:
        render.print_json(answer)
        return
    print_results(answer)
    if facets:
        print_facets(answer["facets"])


def print_results(answer: dict[str, Any]) -> None:
    first = (answer["page"] - 1) * answer["size"]
    shown = len(answer["results"])
    render.console.print(
        f"[bold]{answer['total']}[/bold] items match [italic]{escape(answer['query'])}[/italic]"
        + (f" (showing {first + 1}-{first + shown})" if shown else "")
    )
    for number, result in enumerate(answer["results"], start=first + 1):
        heading = result["title"] or result["path"] or result["item_id"]
        facts = [result["type"], result["date"] or "", result["sender"] or ""]
        render.console.print(
            f"{number:>3}. [bold]{escape(str(heading))}[/bold]  "
            f"[dim]{escape(' · '.join(f for f in facts if f))}[/dim]"
        )
        if result["path"]:
            render.console.print(f"     [dim]{escape(result['path'])}[/dim]")
        snippet = result.get("snippet")
        if snippet:
            time = snippet.get("time")
            where = f"at {_clock(time['start'])}" if time else f"p. {snippet['page']}"
            line = Text(f"     {where}: ")
            line.append_text(_highlighted(snippet["text"], snippet["highlights"]))
            if len(snippet["pages"]) > 1:
                more = ", ".join(map(str, snippet["pages"][:10]))
                line.append(f"  (hits on pages {more})", style="dim")
            render.console.print(line)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:02d}:{minutes:02d}:{rest:04.1f}"


def _highlighted(snippet: str, spans: list[list[int]]) -> Text:
    text = Text(snippet)
    for start, end in spans:
        text.stylize("bold yellow", start, end)
    return text


def print_facets(facets: dict[str, list[dict[str, Any]]]) -> None:
    months = facets.get("month", [])
    dates = months
    label = "month"
    if len(months) > HISTOGRAM_MONTHS:
        years: dict[str, int] = {}
        for bucket in months:
            years[bucket["value"][:4]] = years.get(bucket["value"][:4], 0) + bucket["count"]
        dates = [{"value": year, "count": count} for year, count in sorted(years.items())]
        label = "year"
    for name, buckets in (
        ("type", facets.get("type", [])),
        ("language", facets.get("lang", [])),
        ("sender", facets.get("sender", [])),
        ("identifier kind", facets.get("kind", [])),
        (label, dates),
    ):
        if buckets:
            render.table(
                name, [name, "items"], [(b["value"] or "(unknown)", b["count"]) for b in buckets]
            )


def reindex(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """Rebuild the case's search index from the store."""
    current = state(ctx)
    counts = current.app.search.rebuild(current.actor, reference)
    if json_output:
        render.print_json(counts)
        return
    render.console.print(
        f"search index of {escape(reference)} rebuilt: {counts['indexed']} items indexed"
    )
