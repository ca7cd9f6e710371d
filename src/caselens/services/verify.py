"""Verify a case: every blob re-hashed, every chain walked, every signed head checked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from caselens.actor import Actor
from caselens.custody import chain
from caselens.custody.signing import load_public_key
from caselens.db.schema import blobs, items
from caselens.services.access import InstallationRole, require_member, user_row
from caselens.services.base import Service
from caselens.store.hashing import Digests


@dataclass(slots=True)
class VerifyReport:
    reference: str
    blobs_checked: int = 0
    items_checked: int = 0
    chains: list[chain.ChainReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failed_items: set[str] = field(default_factory=set)

    def item_problem(self, row: Any, problem: str) -> None:
        self.problems.append(f"item {row.id} ({row.path}): {problem}")
        self.failed_items.add(row.id)

    @property
    def ok(self) -> bool:
        return not self.problems and all(report.ok for report in self.chains)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.reference,
            "ok": self.ok,
            "blobs_checked": self.blobs_checked,
            "items_checked": self.items_checked,
            "chains": [
                {
                    "chain": r.chain,
                    "records": r.records,
                    "head_seq": r.head.seq if r.head else None,
                    "head_hash": r.head.hash if r.head else None,
                    "key_id": r.head.key_id if r.head else None,
                    "problems": r.problems,
                }
                for r in self.chains
            ],
            "problems": self.problems,
        }


class VerifyService(Service):
    def verify(self, actor: Actor, reference: str) -> VerifyReport:
        """Check everything of a case; the outcome is itself recorded in custody and audit."""

        def body(connection: Connection, case: Row[Any]) -> tuple[Row[Any], VerifyReport]:
            user = user_row(connection, actor.user)
            if user.role != InstallationRole.AUDITOR:
                require_member(connection, actor, case)
            return case, self._check(connection, case)

        case, report = self._in_case(actor, "case.verify", reference, body)
        self._record(actor, case, report)
        return report

    def _check(self, connection: Connection, case: Row[Any]) -> VerifyReport:
        report = VerifyReport(case.reference)
        public_key = load_public_key(self.runtime.settings.keys_dir)
        for name in (chain.custody_chain(case.id), chain.audit_chain(case.id)):
            report.chains.append(chain.verify_chain(connection, name, public_key))
        rows = connection.execute(
            select(
                items.c.id,
                items.c.path,
                items.c.sha256,
                items.c.sha1,
                items.c.md5,
                items.c.size,
                blobs.c.sha1.label("blob_sha1"),
                blobs.c.md5.label("blob_md5"),
                blobs.c.size.label("blob_size"),
            )
            .outerjoin(blobs, blobs.c.sha256 == items.c.sha256)
            .where(items.c.case_id == case.id, items.c.sha256.is_not(None))
            .order_by(items.c.sha256)
        ).all()
        report.items_checked = len(rows)
        by_blob: dict[str, list[Any]] = {}
        for row in rows:
            by_blob.setdefault(row.sha256, []).append(row)
            if row.blob_sha1 is None:
                report.item_problem(row, "its blob is not registered")
            elif (row.sha1, row.md5, row.size) != (row.blob_sha1, row.blob_md5, row.blob_size):
                report.item_problem(row, "recorded hashes differ from the blob's record")
        expected = {
            sha: Digests(sha, group[0].sha1, group[0].md5, group[0].size)
            for sha, group in by_blob.items()
        }
        workers = max(2, self.runtime.settings.workers)
        with ThreadPoolExecutor(workers) as pool:
            outcomes = pool.map(
                lambda sha: (sha, self.runtime.blobs.check(sha, expected[sha])), expected
            )
            for sha, problem in outcomes:
                report.blobs_checked += 1
                if problem:
                    for row in by_blob[sha]:
                        report.item_problem(row, problem)
        return report

    def _record(self, actor: Actor, case: Row[Any], report: VerifyReport) -> None:
        with self._transaction() as connection:
            item_ids = connection.execute(
                select(items.c.id).where(items.c.case_id == case.id, items.c.sha256.is_not(None))
            ).scalars()
            entries = [
                chain.LogEntry(
                    action="verified",
                    case_id=case.id,
                    item_id=item_id,
                    actor=actor.user,
                    details={"ok": item_id not in report.failed_items},
                )
                for item_id in item_ids
            ]
            chain.append(connection, self.runtime.signer, chain.custody_chain(case.id), entries)
            details = {
                "ok": report.ok,
                "blobs_checked": report.blobs_checked,
                "problems": len(report.problems) + sum(len(c.problems) for c in report.chains),
                "heads": {c.chain: c.head.hash if c.head else None for c in report.chains},
            }
            self._audit(connection, actor, "case.verify", case=case, details=details)
