"""Access rules: installation roles, case membership and purpose of access."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, select

from caselens.actor import Actor
from caselens.db.schema import cases, memberships, users
from caselens.errors import AccessDenied, InvalidInput, NotFound


class InstallationRole(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    USER = "user"


class CaseRole(StrEnum):
    LEAD = "lead"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    REVIEWER = "reviewer"


# Who may change a case's contents (ingest, reprocess); every member may read.
WRITER_ROLES = frozenset({CaseRole.LEAD, CaseRole.INVESTIGATOR, CaseRole.ANALYST})
LEAD_ONLY = frozenset({CaseRole.LEAD})


def parse_case_role(value: str) -> CaseRole:
    try:
        return CaseRole(value)
    except ValueError:
        choices = ", ".join(role.value for role in CaseRole)
        raise InvalidInput(f"unknown case role {value!r}; choose one of {choices}") from None


def parse_installation_role(value: str) -> InstallationRole:
    try:
        return InstallationRole(value)
    except ValueError:
        choices = ", ".join(role.value for role in InstallationRole)
        raise InvalidInput(f"unknown role {value!r}; choose one of {choices}") from None


def user_row(connection: Connection, name: str) -> Row[Any]:
    row = connection.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise AccessDenied(
            f"unknown user {name!r}: an admin must add it first (caselens user add {name})",
            user=name,
        )
    return row


def require_installation_role(
    connection: Connection, actor: Actor, *roles: InstallationRole
) -> Row[Any]:
    row = user_row(connection, actor.user)
    if row.role not in roles:
        wanted = " or ".join(role.value for role in roles)
        raise AccessDenied(f"{actor.user} is not {wanted}", user=actor.user)
    return row


def case_row(connection: Connection, reference: str) -> Row[Any]:
    row = connection.execute(select(cases).where(cases.c.reference == reference)).first()
    if row is None:
        raise NotFound(f"no case with reference {reference!r}", reference=reference)
    return row


def membership_role(connection: Connection, case_id: str, user_id: int) -> CaseRole | None:
    role = connection.execute(
        select(memberships.c.role).where(
            memberships.c.case_id == case_id, memberships.c.user_id == user_id
        )
    ).scalar()
    return CaseRole(role) if role else None


def require_member(
    connection: Connection,
    actor: Actor,
    case: Row[Any],
    roles: frozenset[CaseRole] | None = None,
) -> CaseRole:
    """The actor's role in the case; refuse non-members and members without a needed role."""
    user = user_row(connection, actor.user)
    role = membership_role(connection, case.id, user.id)
    if role is None:
        raise AccessDenied(
            f"{actor.user} is not a member of case {case.reference}; its lead can add them "
            f"(caselens member add {case.reference} {actor.user} --role investigator)",
            user=actor.user,
            case=case.reference,
        )
    if roles is not None and role not in roles:
        wanted = " or ".join(sorted(r.value for r in roles))
        raise AccessDenied(
            f"{actor.user} is {role.value} in case {case.reference}; this needs {wanted}",
            user=actor.user,
            case=case.reference,
        )
    return role


def require_open(case: Row[Any]) -> None:
    if case.status != "open":
        raise InvalidInput(f"case {case.reference} is closed")


def purpose_for(actor: Actor, case: Row[Any] | None = None) -> str:
    """The stated purpose of access: given explicitly, or the case's default purpose."""
    if actor.purpose:
        return actor.purpose
    if case is not None and case.default_purpose:
        return str(case.default_purpose)
    where = f"case {case.reference} has no default purpose" if case is not None else "none set"
    raise AccessDenied(
        f"a purpose of access is required ({where}): give --purpose or set CASELENS_PURPOSE",
        user=actor.user,
    )
