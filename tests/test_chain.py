"""Hash-chained logs: every kind of tampering is found and named."""

from __future__ import annotations

import json
from pathlib import Path

import rfc8785
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from caselens.custody import chain
from caselens.custody.canonical import canonical_json, sha256_hex
from caselens.custody.signing import HeadSigner, load_public_key
from caselens.db.schema import chain_heads, log_records
from caselens.services import Caselens

CHAIN = "custody:test"


def _append(app: Caselens, count: int) -> None:
    entries = [
        chain.LogEntry(
            action="acquired",
            case_id="test",
            item_id=f"item{i}",
            actor="alice",
            details={"n": i, "name": "Hélène"},
        )
        for i in range(count)
    ]
    with app.runtime.transaction() as connection:
        chain.append(connection, app.runtime.signer, CHAIN, entries)


def _verify(app: Caselens) -> chain.ChainReport:
    with app.runtime.transaction() as connection:
        return chain.verify_chain(connection, CHAIN, load_public_key(app.settings.keys_dir))


def test_intact_chain_verifies_and_record_is_canonical(app: Caselens) -> None:
    _append(app, 5)
    _append(app, 3)
    report = _verify(app)
    assert report.ok, report.problems
    assert report.records == 8 and report.head is not None and report.head.seq == 8
    with app.runtime.transaction() as connection:
        first = connection.execute(
            select(log_records).where(log_records.c.chain == CHAIN, log_records.c.seq == 1)
        ).one()
    envelope = json.loads(first.record)
    assert first.record == canonical_json(envelope).decode()
    assert first.hash == sha256_hex(first.record.encode())
    assert envelope["prev"] == "0" * 64 and envelope["seq"] == 1 and envelope["chain"] == CHAIN
    body = envelope["body"]
    assert body["at"].endswith("Z") and body["details"] == {"n": 0, "name": "Hélène"}
    assert (body["action"], body["actor"], body["item_id"]) == ("acquired", "alice", "item0")


def test_edited_record_is_named(app: Caselens) -> None:
    _append(app, 5)
    with app.runtime.transaction() as connection:
        row = connection.execute(select(log_records).where(log_records.c.seq == 3)).one()
        edited = row.record.replace('"n":2', '"n":7')
        connection.execute(
            update(log_records).where(log_records.c.id == row.id).values(record=edited)
        )
    report = _verify(app)
    assert any("record 3" in p and "edited" in p for p in report.problems), report.problems


def test_deleted_record_is_named(app: Caselens) -> None:
    _append(app, 5)
    with app.runtime.transaction() as connection:
        connection.execute(delete(log_records).where(log_records.c.seq == 2))
    report = _verify(app)
    assert any("records 2..2 are missing" in p for p in report.problems), report.problems


def test_rewrite_with_every_later_hash_recomputed_is_detected(app: Caselens) -> None:
    _append(app, 6)
    with app.runtime.transaction() as connection:
        rows = connection.execute(
            select(log_records).where(log_records.c.chain == CHAIN).order_by(log_records.c.seq)
        ).all()
        prev = rows[2].prev_hash
        for row in rows[2:]:
            envelope = json.loads(row.record)
            if row.seq == 3:
                envelope["body"]["actor"] = "mallory"
            envelope["prev"] = prev
            text = canonical_json(envelope).decode()
            new_hash = sha256_hex(text.encode())
            connection.execute(
                update(log_records)
                .where(log_records.c.id == row.id)
                .values(record=text, hash=new_hash, prev_hash=prev, actor=envelope["body"]["actor"])
            )
            prev = new_hash
    report = _verify(app)
    assert any("history was rewritten" in p for p in report.problems), report.problems
    assert not any("edited" in p for p in report.problems)


def test_rewrite_with_head_updated_but_no_key_fails_the_signature(
    app: Caselens, tmp_path: Path
) -> None:
    _append(app, 3)
    forger = HeadSigner.load_or_create(tmp_path / "other-keys")
    with app.runtime.transaction() as connection:
        connection.execute(delete(log_records).where(log_records.c.seq == 3))
        last = connection.execute(select(log_records).where(log_records.c.seq == 2)).one()
        connection.execute(
            update(chain_heads)
            .where(chain_heads.c.chain == CHAIN)
            .values(
                seq=2,
                hash=last.hash,
                signature=forger.sign(chain.head_message(CHAIN, 2, last.hash)),
            )
        )
    report = _verify(app)
    assert report.problems == [f"{CHAIN}: the head's signature is not valid"]


def test_truncated_tail_is_detected(app: Caselens) -> None:
    _append(app, 5)
    with app.runtime.transaction() as connection:
        connection.execute(delete(log_records).where(log_records.c.seq >= 4))
    report = _verify(app)
    assert any("chain ends at 3" in p for p in report.problems), report.problems


def test_column_changed_beside_the_record_is_detected(app: Caselens) -> None:
    _append(app, 2)
    with app.runtime.transaction() as connection:
        connection.execute(
            update(log_records).where(log_records.c.seq == 1).values(actor="mallory")
        )
    report = _verify(app)
    assert any("column actor is 'mallory'" in p for p in report.problems), report.problems


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_matches_the_reference_implementation(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_concurrent_writers_start_and_extend_a_chain_safely(app: Caselens) -> None:
    # Two ingest workers commit their first batches into a new case's chain at once.
    import threading

    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for round_ in range(5):
                entries = [
                    chain.LogEntry(action="acquired", case_id="test", item_id=f"{name}{round_}-{i}")
                    for i in range(20)
                ]
                with app.runtime.transaction() as connection:
                    chain.append(connection, app.runtime.signer, CHAIN, entries)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(app)
    assert report.ok, report.problems
    assert report.records == 200
