"""Shared plumbing of the services: transactions, audit, and recording refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Row

from caselens.actor import Actor
from caselens.errors import AccessDenied, NotFound
from caselens.runtime import Runtime
from caselens.services import audit_log
from caselens.services.access import case_row

T = TypeVar("T")


class Service:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.runtime.transaction() as connection:
            yield connection

    def _audit(
        self,
        connection: Connection,
        actor: Actor,
        action: str,
        *,
        case: Row[Any] | None = None,
        purpose: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        audit_log.record(
            connection,
            self.runtime.signer,
            actor,
            action,
            case_id=case.id if case is not None else None,
            purpose=purpose,
            target=target,
            details=details,
        )

    def _in_case(
        self, actor: Actor, action: str, reference: str, body: Callable[[Connection, Row[Any]], T]
    ) -> T:
        """Run ``body`` for a case in one transaction; a refusal is itself audited."""
        try:
            with self._transaction() as connection:
                case = case_row(connection, reference)
                return body(connection, case)
        except AccessDenied as denied:
            self._record_refusal(actor, action, reference, denied)
            raise

    def _record_refusal(
        self, actor: Actor, action: str, reference: str | None, denied: AccessDenied
    ) -> None:
        # Refusals are written to the case's log (or the installation's) in their own
        # transaction, since the refused call's transaction is rolled back.
        with self._transaction() as connection:
            case = None
            if reference is not None:
                try:
                    case = case_row(connection, reference)
                except NotFound:  # the refusal then goes to the installation log
                    case = None
            self._audit(
                connection,
                actor,
                "access.denied",
                case=case,
                details={"attempted": action, "reason": denied.message},
            )
