"""Append-only hash chains stored in ``log_records``, with signed heads in ``chain_heads``.

Each record is the canonical JSON (RFC 8785) of an envelope
``{"body": {...}, "chain": name, "prev": hash of the record before, "seq": n}``; its own
hash is the SHA-256 of those bytes. The body can be serialised ahead of time (by an
ingest worker, say), so that linking a record into its chain costs one hash. The head
(last sequence number and hash) is stored apart and signed, so editing a record,
deleting one, rewriting a record with every later hash recomputed, or cutting off the
tail are all detected by :func:`verify_chain`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from caselens.custody.canonical import canonical_json, format_time, parse_time, sha256_hex
from caselens.custody.signing import HeadSigner, signature_valid
from caselens.db.bulk import bulk_insert
from caselens.db.schema import chain_heads, log_records
from caselens.db.types import utcnow

GENESIS_HASH = "0" * 64
INSTALLATION_AUDIT_CHAIN = "audit:installation"

# Columns copied out of the record for querying; verify checks them against the record.
INDEXED_FIELDS = ("action", "case_id", "item_id", "actor")


def custody_chain(case_id: str) -> str:
    return f"custody:{case_id}"


def audit_chain(case_id: str | None) -> str:
    return f"audit:{case_id}" if case_id else INSTALLATION_AUDIT_CHAIN


@dataclass(slots=True)
class LogEntry:
    """One record to append: an action with its context and free-form details."""

    action: str
    case_id: str | None = None
    item_id: str | None = None
    actor: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
    serialised: bytes | None = None  # canonical body, when prepared ahead of time

    def prepare(self) -> LogEntry:
        """Serialise the body now (in a worker), so the chain writer only hashes."""
        self.serialised = canonical_json(self.fields())
        return self

    def body(self) -> bytes:
        return self.serialised if self.serialised is not None else canonical_json(self.fields())

    def fields(self) -> dict[str, Any]:
        body: dict[str, Any] = {"action": self.action, "at": format_time(self.at)}
        for name in ("case_id", "item_id", "actor"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.details:
            body["details"] = self.details
        return body


@dataclass(frozen=True, slots=True)
class ChainHead:
    chain: str
    seq: int
    hash: str
    key_id: str | None
    signature: str | None


def head_message(chain: str, seq: int, head_hash: str) -> bytes:
    return canonical_json({"chain": chain, "hash": head_hash, "seq": seq})


def append(
    connection: Connection, signer: HeadSigner, chain: str, entries: Sequence[LogEntry]
) -> ChainHead:
    """Append entries to a chain inside the caller's transaction and re-sign its head."""
    seq, prev = _lock_head(connection, chain)
    chain_json = canonical_json(chain)
    rows = []
    for entry in entries:
        seq += 1
        # The envelope's keys are already in RFC 8785 order: body, chain, prev, seq.
        text = b"".join(
            (
                b'{"body":',
                entry.body(),
                b',"chain":',
                chain_json,
                b',"prev":"',
                prev.encode("ascii"),
                b'","seq":',
                str(seq).encode("ascii"),
                b"}",
            )
        )
        record_hash = sha256_hex(text)
        rows.append(
            {
                "chain": chain,
                "seq": seq,
                "case_id": entry.case_id,
                "item_id": entry.item_id,
                "action": entry.action,
                "actor": entry.actor,
                "at": entry.at,
                "record": text.decode("utf-8"),
                "prev_hash": prev,
                "hash": record_hash,
            }
        )
        prev = record_hash
    bulk_insert(connection, log_records, rows)
    head = ChainHead(chain, seq, prev, signer.key_id, signer.sign(head_message(chain, seq, prev)))
    connection.execute(
        update(chain_heads)
        .where(chain_heads.c.chain == chain)
        .values(
            seq=head.seq,
            hash=head.hash,
            updated_at=utcnow(),
            key_id=head.key_id,
            signature=head.signature,
        )
    )
    return head


def _lock_head(connection: Connection, chain: str) -> tuple[int, str]:
    """Return the chain's head, creating it, and hold its row lock until commit."""
    query = select(chain_heads.c.seq, chain_heads.c.hash).where(chain_heads.c.chain == chain)
    if connection.dialect.name != "sqlite":  # SQLite already holds the database write lock
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        # Two writers may start a chain at once (two ingest workers on a new case): the
        # second insert is skipped and that writer waits for the first one's row lock.
        genesis = {"chain": chain, "seq": 0, "hash": GENESIS_HASH, "updated_at": utcnow()}
        bulk_insert(connection, chain_heads, [genesis], conflict=["chain"])
        row = connection.execute(query).first()
        assert row is not None
    return int(row.seq), str(row.hash)


def read_head(connection: Connection, chain: str) -> ChainHead | None:
    row = connection.execute(select(chain_heads).where(chain_heads.c.chain == chain)).first()
    if row is None:
        return None
    return ChainHead(row.chain, int(row.seq), row.hash, row.key_id, row.signature)


@dataclass(slots=True)
class ChainReport:
    chain: str
    records: int = 0
    head: ChainHead | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(connection: Connection, chain: str, public_key: Any | None) -> ChainReport:
    """Walk a chain from its first record and say exactly which record fails, and how."""
    report = ChainReport(chain)
    expected_seq = 1
    prev = GENESIS_HASH
    rows = connection.execution_options(yield_per=5000).execute(
        select(log_records).where(log_records.c.chain == chain).order_by(log_records.c.seq)
    )
    for row in rows:
        report.records += 1
        where = f"{chain} record {row.seq} (row id {row.id})"
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                report.problems.append(
                    f"{chain}: records {expected_seq}..{row.seq - 1} are missing"
                )
            else:
                report.problems.append(f"{where}: duplicate sequence number")
        expected_seq = row.seq + 1
        report.problems.extend(f"{where}: {p}" for p in _check_record(row, chain, prev))
        prev = row.hash
    report.head = head = read_head(connection, chain)
    last_seq = expected_seq - 1
    if head is None:
        if report.records:
            report.problems.append(f"{chain}: the chain head is missing")
        return report
    if head.seq > last_seq:
        report.problems.append(
            f"{chain}: the head names record {head.seq} but the chain ends at {last_seq} "
            "(records were removed from the end)"
        )
    elif head.seq < last_seq:
        report.problems.append(
            f"{chain}: records after {head.seq} are not covered by the head "
            "(appended outside caselens)"
        )
    elif head.hash != prev:
        report.problems.append(
            f"{chain}: the head hash {head.hash[:16]}… does not match the last record "
            f"{prev[:16]}… (history was rewritten)"
        )
    if public_key is None:
        report.problems.append(f"{chain}: no public key to check the head's signature")
    elif not head.signature or not signature_valid(
        public_key, head_message(chain, head.seq, head.hash), head.signature
    ):
        report.problems.append(f"{chain}: the head's signature is not valid")
    return report


def _check_record(row: Any, chain: str, prev: str) -> Iterable[str]:
    text: str = row.record
    if sha256_hex(text.encode("utf-8")) != row.hash:
        yield "its content does not match its hash (the record was edited)"
    if row.prev_hash != prev:
        yield "it does not link to the record before it"
    try:
        envelope = json.loads(text)
    except ValueError:
        yield "its record is not valid JSON"
        return
    if canonical_json(envelope).decode("utf-8") != text:
        yield "its record is not in canonical form"
    if not isinstance(envelope, dict) or set(envelope) != {"body", "chain", "prev", "seq"}:
        yield "its record is not a chain envelope"
        return
    if envelope["chain"] != chain or envelope["seq"] != row.seq or envelope["prev"] != prev:
        yield "its chain, sequence or link inside the record differ from the stored ones"
    body = envelope["body"] if isinstance(envelope["body"], dict) else {}
    for name in INDEXED_FIELDS:
        if body.get(name) != getattr(row, name):
            yield f"column {name} is {getattr(row, name)!r} but the record says {body.get(name)!r}"
    try:
        if parse_time(body["at"]) != row.at:
            yield "its time column differs from the time in the record"
    except (KeyError, ValueError):
        yield "its time is missing or malformed"
