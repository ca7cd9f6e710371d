"""caselens aml detect and caselens alerts: typology alerts of a case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from caselens.cli import render
from caselens.cli.evidence import JsonOption
from caselens.cli.state import state
from caselens.errors import InvalidInput
from caselens.finance.detect import DETECTORS
from caselens.services.alerts import ENGINES, REVIEW_STATES, Alert

SHOWN_ACCOUNTS = 6  # accounts printed per alert in the list; all are in show and --json

aml_app = typer.Typer(
    help="Anti-money-laundering: typology detection (and risk scoring where installed).",
    no_args_is_help=True,
)


@aml_app.command("detect")
def detect(
    ctx: typer.Context,
    reference: str,
    dataset: Annotated[
        str | None, typer.Option(help="Dataset id or prefix (when the case has several).")
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated typologies (all when left out): {', '.join(DETECTORS)}."
        ),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--set", help="A detector parameter, TYPOLOGY.NAME=VALUE (repeatable)."),
    ] = None,
    engine: Annotated[str, typer.Option(help=f"One of: {', '.join(ENGINES)}.")] = "duckdb",
    master: Annotated[
        str, typer.Option(help="Spark master URL (--engine spark): local[*], spark://host:7077.")
    ] = "local[*]",
    json_output: JsonOption = False,
) -> None:
    """Run the typology detectors over a transaction dataset of the case; new findings
    become alerts in state "new" (findings already alerted are not repeated)."""
    chosen = [name.strip() for name in (only or "").split(",") if name.strip()]
    current = state(ctx)
    result = current.app.alerts.detect(
        current.actor,
        reference,
        dataset=dataset,
        only=chosen,
        parameters=parse_parameters(parameter or []),
        engine=engine,
        master=master,
    )
    if json_output:
        render.print_json(result.as_dict())
        return
    render.table(
        f"dataset {result.dataset_id[:12]} ({result.engine})",
        ["typology", "found", "new alerts"],
        [(name, result.found[name], result.new[name]) for name in result.parameters],
    )
    render.console.print(f"caselens alerts {reference} lists them, best first")


@aml_app.command("train")
def train(
    ctx: typer.Context,
    data: Annotated[
        Path, typer.Argument(help="Labelled transactions: AMLworld CSV(.gz) or Parquet.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The model file to write (card beside it).")],
    seed: Annotated[int, typer.Option(help="Random seed of the trees.")] = 0,
    threads: Annotated[int | None, typer.Option(help="Threads (default: all cores).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Train a risk model: causal features, LightGBM, temporal 60/20/20 split, threshold
    tuned on the validation part; writes MODEL and MODEL.card.json."""
    current = state(ctx)
    card = current.app.aml_models.train(current.actor, data, out, seed=seed, threads=threads)
    if json_output:
        render.print_json(card)
        return
    render.table(
        f"model {out} (threshold {card['threshold']:.4f})",
        ["part", "rows", "laundering", "F1", "precision", "recall"],
        [
            (
                part,
                card["split"][f"{part}_rows"],
                card["split"]["laundering"][part],
                *(card[part][k] if part in card else "" for k in ("f1", "precision", "recall")),
            )
            for part in ("train", "validation", "test")
        ],
    )


@aml_app.command("score")
def score(
    ctx: typer.Context,
    data: Annotated[Path, typer.Argument(help="Transactions: AMLworld CSV(.gz) or Parquet.")],
    model: Annotated[Path, typer.Option(help="A model written by caselens aml train.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV to write: row,score,pred.")],
    explain: Annotated[
        int, typer.Option(help="Add the N features that moved each score most.")
    ] = 0,
    threads: Annotated[int | None, typer.Option(help="Threads (default: all cores).")] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Memory for the feature engine, e.g. 6GB; it spills to disk past it."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Score every transaction of DATA in time order; ``row`` is its 0-based position
    among the data rows of DATA, ``pred`` the decision at the model's threshold."""
    current = state(ctx)
    summary = current.app.aml_models.score(
        current.actor,
        data,
        model,
        out,
        explain=explain,
        threads=threads,
        memory_limit=memory_limit,
    )
    if json_output:
        render.print_json(summary)
        return
    render.console.print(
        f"{summary['rows']:,} transactions scored, {summary['flagged']:,} above the "
        f"threshold {summary['threshold']:.4f}; written to {out}"
    )


def parse_parameters(settings: list[str]) -> dict[str, dict[str, str]]:
    """``["fan_in.min_counterparties=6"]`` -> ``{"fan_in": {"min_counterparties": "6"}}``;
    the detector checks and converts each value."""
    parsed: dict[str, dict[str, str]] = {}
    for setting in settings:
        key, equals, value = setting.partition("=")
        typology, dot, name = key.strip().partition(".")
        if not equals or not dot or not typology or not name:
            raise InvalidInput(f"--set takes TYPOLOGY.NAME=VALUE, not {setting!r}")
        parsed.setdefault(typology, {})[name] = value.strip()
    return parsed


def alerts(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            help="REF to list; 'show REF ID' for one alert; 'review REF ID --state S' to "
            "review; 'bring REF ID' to make its accounts and payments entities of the case.",
            metavar="[show|review|bring] REF [ID]",
        ),
    ],
    state_option: Annotated[
        str | None,
        typer.Option(
            "--state",
            help=f"List: only this state. Review: the new one ({', '.join(REVIEW_STATES)}).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Review: the reason, kept with it.")] = None,
    typology: Annotated[str | None, typer.Option(help="List: only this typology.")] = None,
    dataset: Annotated[
        str | None, typer.Option(help="List: only this dataset (id prefix).")
    ] = None,
    limit: Annotated[int, typer.Option(help="List: alerts shown.")] = 50,
    offset: Annotated[int, typer.Option(help="List: alerts skipped first.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """List a case's typology alerts best first, show one, review one (confirmed or
    dismissed, with a note), or bring one into the case as FollowTheMoney BankAccount and
    Payment entities; every call is audited."""
    current = state(ctx)
    if words and words[0] == "bring":
        if len(words) != 3:
            raise InvalidInput("caselens alerts bring takes REF and an alert ID")
        counts = current.app.alerts.bring_into_case(current.actor, words[1], _alert_id(words[2]))
        if json_output:
            render.print_json(counts)
        else:
            render.console.print(
                f"{counts['accounts']} accounts and {counts['payments']} payments are entities "
                f"of the case ({counts['new_entities']} new); caselens graph shows them"
            )
        return
    if words and words[0] in ("show", "review"):
        if len(words) != 3:
            raise InvalidInput(f"caselens alerts {words[0]} takes REF and an alert ID")
        action, reference, raw_id = words
        alert_id = _alert_id(raw_id)
        if action == "review":
            if state_option is None:
                raise InvalidInput(f"--state is needed: one of {', '.join(REVIEW_STATES)}")
            alert = current.app.alerts.review(
                current.actor, reference, alert_id, state_option, note
            )
        else:
            alert = current.app.alerts.show(current.actor, reference, alert_id)
        if json_output:
            render.print_json(alert.as_dict())
        else:
            _print_alert(alert)
        return
    if len(words) != 1:
        raise InvalidInput("caselens alerts takes one case reference (or show/review REF ID)")
    total, found = current.app.alerts.list_alerts(
        current.actor,
        words[0],
        state=state_option,
        typology=typology,
        dataset=dataset,
        limit=limit,
        offset=offset,
    )
    if json_output:
        render.print_json({"total": total, "alerts": [alert.as_dict() for alert in found]})
        return
    render.table(
        f"alerts {offset + 1}-{offset + len(found)} of {total}"
        if found
        else f"no alerts ({total})",
        ["id", "typology", "score", "state", "window", "accounts", "payments"],
        [
            (
                alert.id,
                alert.typology,
                f"{alert.score:.2f}",
                alert.state,
                f"{alert.window_start:%Y-%m-%d %H:%M} .. {alert.window_end:%Y-%m-%d %H:%M}",
                _accounts(alert.accounts),
                len(alert.transactions),
            )
            for alert in found
        ],
    )


def _alert_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"an alert ID is a number, not {raw!r}") from None


def _accounts(accounts: list[str]) -> str:
    shown = ", ".join(accounts[:SHOWN_ACCOUNTS])
    more = len(accounts) - SHOWN_ACCOUNTS
    return f"{shown} (+{more})" if more > 0 else shown


def _print_alert(alert: Alert) -> None:
    fields: list[tuple[str, Any]] = [
        ("alert", alert.id),
        ("typology", f"{alert.typology} (detector version {alert.detector_version})"),
        ("score", f"{alert.score:.3f}"),
        ("state", alert.state),
        ("why", alert.explanation),
        ("window", f"{alert.window_start.isoformat()} .. {alert.window_end.isoformat()}"),
        ("accounts", ", ".join(alert.accounts)),
        ("transactions (rows)", ", ".join(str(row) for row in alert.transactions)),
        ("parameters", ", ".join(f"{k}={v}" for k, v in sorted(alert.parameters.items()))),
        ("dataset", alert.dataset_id),
    ]
    if alert.reviewed_by:
        fields.append(
            ("reviewed", f"{alert.reviewed_by} at {alert.reviewed_at}: {alert.review_note or ''}")
        )
    render.table(None, ["", ""], fields)
