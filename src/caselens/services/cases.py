"""Cases and their members."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from caselens.actor import Actor
from caselens.db.schema import cases, memberships, users
from caselens.db.types import utcnow
from caselens.errors import AccessDenied, InvalidInput
from caselens.identity import new_case_id
from caselens.services.access import (
    LEAD_ONLY,
    CaseRole,
    InstallationRole,
    membership_role,
    parse_case_role,
    require_member,
    require_open,
    user_row,
)
from caselens.services.base import Service


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: str
    reference: str
    title: str
    jurisdiction: str | None
    legal_basis: str | None
    default_purpose: str | None
    status: str
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    my_role: str | None = None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    user: str
    role: str
    added_at: datetime
    added_by: str


def case_info(row: Row[Any], my_role: str | None = None) -> CaseInfo:
    return CaseInfo(
        id=row.id,
        reference=row.reference,
        title=row.title,
        jurisdiction=row.jurisdiction,
        legal_basis=row.legal_basis,
        default_purpose=row.default_purpose,
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        closed_at=row.closed_at,
        my_role=my_role,
    )


def _check_reference(reference: str) -> str:
    reference = reference.strip()
    if not reference or len(reference) > 128 or any(c.isspace() for c in reference):
        raise InvalidInput(f"invalid case reference {reference!r}: no spaces, 1-128 characters")
    return reference


class CaseService(Service):
    def create(
        self,
        actor: Actor,
        reference: str,
        title: str,
        *,
        jurisdiction: str | None = None,
        legal_basis: str | None = None,
        default_purpose: str | None = None,
    ) -> CaseInfo:
        """Open a new case; its creator becomes its lead."""
        reference = _check_reference(reference)
        if not title.strip():
            raise InvalidInput("a case needs a title")
        try:
            with self._transaction() as connection:
                creator = user_row(connection, actor.user)
                if creator.role == InstallationRole.AUDITOR:
                    raise AccessDenied(f"{actor.user} is an auditor; auditors do not open cases")
                exists = connection.execute(
                    select(cases.c.id).where(cases.c.reference == reference)
                ).first()
                if exists:
                    raise InvalidInput(f"a case with reference {reference} already exists")
                now = utcnow()
                case_id = new_case_id()
                connection.execute(
                    insert(cases).values(
                        id=case_id,
                        reference=reference,
                        title=title.strip(),
                        jurisdiction=jurisdiction,
                        legal_basis=legal_basis,
                        default_purpose=default_purpose,
                        status="open",
                        created_at=now,
                        created_by=actor.user,
                    )
                )
                connection.execute(
                    insert(memberships).values(
                        case_id=case_id,
                        user_id=creator.id,
                        role=CaseRole.LEAD.value,
                        added_at=now,
                        added_by=actor.user,
                    )
                )
                case = connection.execute(select(cases).where(cases.c.id == case_id)).one()
                details = {"reference": reference, "title": title.strip()}
                self._audit(connection, actor, "case.create", case=case, details=details)
                self._audit(connection, actor, "case.create", target=reference)
                return case_info(case, CaseRole.LEAD.value)
        except AccessDenied as denied:
            self._record_refusal(actor, "case.create", None, denied)
            raise

    def list(self, actor: Actor) -> list[CaseInfo]:
        """Cases the actor is a member of; admins and auditors see every case's header."""
        with self._transaction() as connection:
            user = user_row(connection, actor.user)
            roles = dict(
                connection.execute(
                    select(memberships.c.case_id, memberships.c.role).where(
                        memberships.c.user_id == user.id
                    )
                ).all()
            )
            rows = connection.execute(select(cases).order_by(cases.c.created_at)).all()
            if user.role == InstallationRole.USER:
                rows = [row for row in rows if row.id in roles]
            self._audit(connection, actor, "case.list")
            return [case_info(row, roles.get(row.id)) for row in rows]

    def show(self, actor: Actor, reference: str) -> CaseInfo:
        def body(connection: Connection, case: Row[Any]) -> CaseInfo:
            role = self._member_or_auditor(connection, actor, case)
            self._audit(connection, actor, "case.show", case=case, purpose=actor.purpose)
            return case_info(case, role)

        return self._in_case(actor, "case.show", reference, body)

    def close(self, actor: Actor, reference: str) -> CaseInfo:
        def body(connection: Connection, case: Row[Any]) -> CaseInfo:
            require_member(connection, actor, case, LEAD_ONLY)
            require_open(case)
            connection.execute(
                update(cases)
                .where(cases.c.id == case.id)
                .values(status="closed", closed_at=utcnow())
            )
            self._audit(connection, actor, "case.close", case=case)
            updated = connection.execute(select(cases).where(cases.c.id == case.id)).one()
            return case_info(updated, CaseRole.LEAD.value)

        return self._in_case(actor, "case.close", reference, body)

    def add_member(self, actor: Actor, reference: str, user_name: str, role: str) -> MemberInfo:
        parsed = parse_case_role(role)

        def body(connection: Connection, case: Row[Any]) -> MemberInfo:
            require_member(connection, actor, case, LEAD_ONLY)
            member = user_row(connection, user_name)
            if member.role == InstallationRole.AUDITOR:
                raise InvalidInput(f"{user_name} is an auditor; auditors are not case members")
            now = utcnow()
            if membership_role(connection, case.id, member.id) is None:
                connection.execute(
                    insert(memberships).values(
                        case_id=case.id,
                        user_id=member.id,
                        role=parsed.value,
                        added_at=now,
                        added_by=actor.user,
                    )
                )
            else:
                connection.execute(
                    update(memberships)
                    .where(memberships.c.case_id == case.id, memberships.c.user_id == member.id)
                    .values(role=parsed.value, added_at=now, added_by=actor.user)
                )
            self._audit(
                connection,
                actor,
                "member.add",
                case=case,
                target=user_name,
                details={"role": parsed.value},
            )
            return MemberInfo(user_name, parsed.value, now, actor.user)

        return self._in_case(actor, "member.add", reference, body)

    def list_members(self, actor: Actor, reference: str) -> builtins.list[MemberInfo]:
        def body(connection: Connection, case: Row[Any]) -> builtins.list[MemberInfo]:
            self._member_or_auditor(connection, actor, case)
            rows = connection.execute(
                select(users.c.name, memberships)
                .join(users, users.c.id == memberships.c.user_id)
                .where(memberships.c.case_id == case.id)
                .order_by(users.c.name)
            ).all()
            self._audit(connection, actor, "member.list", case=case)
            return [MemberInfo(r.name, r.role, r.added_at, r.added_by) for r in rows]

        return self._in_case(actor, "member.list", reference, body)

    def _member_or_auditor(self, connection: Connection, actor: Actor, case: Row[Any]) -> str:
        """Case headers and membership are visible to members and to auditors."""
        user = user_row(connection, actor.user)
        if user.role == InstallationRole.AUDITOR:
            return "auditor"
        return require_member(connection, actor, case).value
