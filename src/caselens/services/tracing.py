"""Fund tracing over a case's transaction datasets, under the case's access rules.

The trace itself (``finance.trace``) reads the dataset's Parquet file in place, after its
hash has been re-checked; this service picks the dataset, checks membership, and records
the trace as a read in the case's audit log with its parameters and how much it found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row

from caselens.actor import Actor
from caselens.finance.datasets import open_dataset
from caselens.finance.trace import TraceRequest, trace
from caselens.finance.trace_result import TraceResult
from caselens.services.access import WRITER_ROLES, purpose_for, require_member, require_open
from caselens.services.base import Service
from caselens.services.case_payments import bring_payments
from caselens.services.transactions import dataset_row


class TraceService(Service):
    def trace(
        self, actor: Actor, reference: str, request: TraceRequest, dataset: str | None = None
    ) -> tuple[str, TraceResult]:
        """Trace funds in one dataset of the case; ``dataset`` is an id or its prefix,
        and may be left out when the case has only one. Returns the dataset id and the trace."""
        request.check()

        def body(connection: Connection, case: Row[Any]) -> tuple[str, TraceResult]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            chosen = dataset_row(connection, case.id, dataset)
            result = trace(open_dataset(self.runtime, chosen), request)
            self._audit(
                connection,
                actor,
                "tx.trace",
                case=case,
                purpose=purpose,
                target=str(chosen.id),
                details={
                    "request": request.as_dict(),
                    "seeds": len(result.seeds),
                    "flows": len(result.flows),
                    "accounts": len(result.nodes),
                    "truncated": bool(result.stats.get("truncated")),
                },
            )
            return str(chosen.id), result

        return self._in_case(actor, "tx.trace", reference, body)

    def bring_into_case(
        self, actor: Actor, reference: str, request: TraceRequest, dataset: str | None = None
    ) -> tuple[str, TraceResult, dict[str, int]]:
        """Trace as :meth:`trace` does, then make the traced payments (the seeds and every
        flow) and their accounts BankAccount and Payment entities of the case, so that the
        trail joins its graph; bringing the same trace twice adds nothing."""
        request.check()

        def body(connection: Connection, case: Row[Any]) -> tuple[str, TraceResult, dict[str, int]]:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            chosen = dataset_row(connection, case.id, dataset)
            result = trace(open_dataset(self.runtime, chosen), request)
            rows = set(result.seeds) | {flow.row for flow in result.flows}
            counts = bring_payments(self.runtime, connection, case.id, chosen, rows)
            self._audit(
                connection,
                actor,
                "tx.trace.bring",
                case=case,
                purpose=purpose_for(actor, case),
                target=str(chosen.id),
                details={"request": request.as_dict(), **counts},
            )
            return str(chosen.id), result, counts

        return self._in_case(actor, "tx.trace.bring", reference, body)
