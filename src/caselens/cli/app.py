"""The ``caselens`` command: global options, command registration and error handling."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from caselens.cli import (
    admin,
    alerts,
    evidence,
    graph,
    hashsets,
    hits,
    mail,
    names,
    resolve,
    search,
    timeline,
    trace,
    transcripts,
    tx,
)
from caselens.cli.demo import demo
from caselens.cli.render import errors
from caselens.cli.state import CliState
from caselens.errors import CaselensError

app = typer.Typer(
    name="caselens",
    help="Forensically sound evidence intake and investigation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def global_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="Data directory (default ./caselens-data or $CASELENS_HOME)."),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="The user you act as (default: your OS user).")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="Purpose of access, recorded with every read.")
    ] = None,
) -> None:
    ctx.obj = CliState(home=home, asserted_user=as_user, purpose=purpose)


app.command("init")(admin.init)
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.case_app, name="case")
app.add_typer(admin.member_app, name="member")
app.command("ingest")(evidence.ingest)
app.command("reprocess")(evidence.reprocess)
app.command("status")(evidence.status)
app.command("items")(evidence.items)
app.command("show")(evidence.show)
app.command("threads")(mail.threads)
app.command("selectors")(mail.selectors)
app.command("names")(names.names)
app.command("hits")(hits.hits)
app.command("resolve")(resolve.resolve)
app.command("judge")(resolve.judge)
app.add_typer(graph.graph_app, name="graph")
app.command("search")(search.search)
app.command("reindex")(search.reindex)
app.command("export-item")(evidence.export_item)
app.command("thumbnail")(evidence.thumbnail)
app.add_typer(hashsets.hashsets_app, name="hashsets")
app.command("transcript")(transcripts.transcript)
app.command("timeline")(timeline.timeline)
app.add_typer(tx.tx_app, name="tx")
app.command("trace")(trace.trace)
app.add_typer(alerts.aml_app, name="aml")
app.command("alerts")(alerts.alerts)
app.command("verify")(evidence.verify)
app.command("audit")(evidence.audit)
app.command("demo")(demo)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure becomes one line on stderr and a non-zero exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="caselens", standalone_mode=False)
    except CaselensError as error:
        errors.print(f"[red]error:[/red] {error.message}", markup=True, highlight=False)
        return error.exit_code
    except typer.Exit as done:
        return int(getattr(done, "exit_code", 0))
    except typer.Abort:
        errors.print("aborted")
        return 130
    except TyperException as error:  # usage errors: unknown command, bad option
        show = getattr(error, "show", None)
        if callable(show):
            show()
        else:
            errors.print(f"error: {error}")
        return int(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        errors.print("interrupted: run the same command again to finish")
        return 130
    except Exception as error:  # the edge: even a bug gets one clear line, no traceback
        errors.print(f"[red]internal error:[/red] {type(error).__name__}: {error}", highlight=False)
        return 70
    return result if isinstance(result, int) else 0


def entry_point() -> None:
    sys.exit(main())
