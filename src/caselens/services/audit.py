"""Reading audit logs: auditors for every case, leads for their own, admins for all."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, select

from caselens.actor import Actor
from caselens.custody import chain
from caselens.db.schema import log_records
from caselens.errors import AccessDenied
from caselens.services.access import LEAD_ONLY, InstallationRole, require_member, user_row
from caselens.services.base import Service


class AuditService(Service):
    def case_log(
        self, actor: Actor, reference: str, *, limit: int = 200, action: str | None = None
    ) -> list[dict[str, Any]]:
        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            user = user_row(connection, actor.user)
            if user.role != InstallationRole.AUDITOR:
                require_member(connection, actor, case, LEAD_ONLY)
            records = _read(connection, chain.audit_chain(case.id), limit, action)
            self._audit(connection, actor, "audit.read", case=case, details={"count": len(records)})
            return records

        return self._in_case(actor, "audit.read", reference, body)

    def installation_log(
        self, actor: Actor, *, limit: int = 200, action: str | None = None
    ) -> list[dict[str, Any]]:
        try:
            with self._transaction() as connection:
                user = user_row(connection, actor.user)
                if user.role not in (InstallationRole.AUDITOR, InstallationRole.ADMIN):
                    raise AccessDenied(f"{actor.user} is neither auditor nor admin")
                records = _read(connection, chain.INSTALLATION_AUDIT_CHAIN, limit, action)
                self._audit(connection, actor, "audit.read", details={"count": len(records)})
                return records
        except AccessDenied as denied:
            self._record_refusal(actor, "audit.read", None, denied)
            raise


def _read(
    connection: Connection, name: str, limit: int, action: str | None
) -> list[dict[str, Any]]:
    query = select(log_records).where(log_records.c.chain == name)
    if action:
        query = query.where(log_records.c.action == action)
    rows = connection.execute(query.order_by(log_records.c.seq.desc()).limit(limit)).all()
    out = []
    for row in reversed(rows):
        record = json.loads(row.record)["body"]
        out.append(
            {
                "seq": row.seq,
                "at": record.get("at"),
                "actor": row.actor,
                "action": row.action,
                "details": record.get("details", {}),
                "hash": row.hash,
            }
        )
    return out
