"""Writing the audit log: one record per service call, in the call's own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from caselens.actor import Actor
from caselens.custody import chain
from caselens.custody.signing import HeadSigner


def record(
    connection: Connection,
    signer: HeadSigner,
    actor: Actor,
    action: str,
    *,
    case_id: str | None = None,
    purpose: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit record to the case's audit chain, or the installation's."""
    body: dict[str, Any] = {"os_user": actor.os_user, "purpose": purpose or actor.purpose or ""}
    if target is not None:
        body["object"] = target
    if details:
        body.update(details)
    entry = chain.LogEntry(action=action, case_id=case_id, actor=actor.user, details=body)
    chain.append(connection, signer, chain.audit_chain(case_id), [entry])
