"""Commands for the installation, users, cases and members."""

from __future__ import annotations

from typing import Annotated

import typer

from caselens.cli import render
from caselens.cli.state import state

user_app = typer.Typer(help="Users of this installation.", no_args_is_help=True)
case_app = typer.Typer(help="Cases: create, list, show, close.", no_args_is_help=True)
member_app = typer.Typer(help="Who may work on a case, and in which role.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def init(ctx: typer.Context) -> None:
    """Create the data directory, database and signing key; make the OS user an admin."""
    current = state(ctx)
    user = current.app.users.init(current.actor)
    home = current.app.settings.resolved_home
    render.console.print(f"initialised {home}; {user.name} is {user.role}")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: str,
    role: Annotated[str, typer.Option(help="admin, auditor or user")] = "user",
) -> None:
    """Add a user (admins only)."""
    current = state(ctx)
    user = current.app.users.add(current.actor, name, role)
    render.console.print(f"added user {user.name} ({user.role})")


@user_app.command("list")
def user_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List users."""
    current = state(ctx)
    users = current.app.users.list(current.actor)
    if json_output:
        render.print_json(users)
        return
    render.table(
        "users",
        ["name", "role", "added", "by"],
        [(u.name, u.role, u.created_at, u.created_by) for u in users],
    )


@case_app.command("create")
def case_create(
    ctx: typer.Context,
    reference: str,
    title: Annotated[str, typer.Option(help="Title of the case.")],
    jurisdiction: Annotated[str | None, typer.Option(help="e.g. GB-ENG, DE, FR")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="Legal basis for processing.")] = None,
    default_purpose: Annotated[
        str | None, typer.Option(help="Purpose recorded with reads when none is given.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Open a case; you become its lead."""
    current = state(ctx)
    case = current.app.cases.create(
        current.actor,
        reference,
        title,
        jurisdiction=jurisdiction,
        legal_basis=legal_basis,
        default_purpose=default_purpose,
    )
    if json_output:
        render.print_json(case)
        return
    render.console.print(f"created case {case.reference} ({case.title}); you are its lead")


@case_app.command("list")
def case_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Cases you are a member of (admins and auditors see all)."""
    current = state(ctx)
    cases = current.app.cases.list(current.actor)
    if json_output:
        render.print_json(cases)
        return
    render.table(
        "cases",
        ["reference", "title", "status", "your role", "created"],
        [(c.reference, c.title, c.status, c.my_role or "-", c.created_at) for c in cases],
    )


@case_app.command("show")
def case_show(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """A case's details."""
    current = state(ctx)
    case = current.app.cases.show(current.actor, reference)
    if json_output:
        render.print_json(case)
        return
    render.table(
        f"case {case.reference}",
        ["field", "value"],
        [
            ("title", case.title),
            ("status", case.status),
            ("jurisdiction", case.jurisdiction),
            ("legal basis", case.legal_basis),
            ("default purpose", case.default_purpose),
            ("created", case.created_at),
            ("created by", case.created_by),
            ("closed", case.closed_at),
            ("your role", case.my_role),
        ],
    )


@case_app.command("close")
def case_close(ctx: typer.Context, reference: str) -> None:
    """Close a case (its lead only)."""
    current = state(ctx)
    case = current.app.cases.close(current.actor, reference)
    render.console.print(f"closed case {case.reference}")


@member_app.command("add")
def member_add(
    ctx: typer.Context,
    reference: str,
    user: str,
    role: Annotated[str, typer.Option(help="lead, investigator, analyst or reviewer")],
) -> None:
    """Add a member to a case, or change their role (the case's lead only)."""
    current = state(ctx)
    member = current.app.cases.add_member(current.actor, reference, user, role)
    render.console.print(f"{member.user} is now {member.role} in {reference}")


@member_app.command("list")
def member_list(ctx: typer.Context, reference: str, json_output: JsonOption = False) -> None:
    """Members of a case."""
    current = state(ctx)
    members = current.app.cases.list_members(current.actor, reference)
    if json_output:
        render.print_json(members)
        return
    render.table(
        f"members of {reference}",
        ["user", "role", "added", "by"],
        [(m.user, m.role, m.added_at, m.added_by) for m in members],
    )
