"""Hash sets through the service: import, matching in a case, known-good, near-duplicates."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from caselens.actor import Actor
from caselens.db.schema import entities, hash_matches, hash_set_entries, hash_sets
from caselens.errors import AccessDenied, InvalidInput
from caselens.hashsets.entries import UnreadableList
from caselens.hashsets.queries import item_hash_matches, known_good_item_ids, known_good_items
from caselens.identity import entity_id
from caselens.services import Caselens
from caselens.services.hashsets import HashSetService
from tests.conftest import ADMIN, REFERENCE

FILES = {
    "windows/kernel32.dll": b"MZ kernel32 of a well-known system",
    "windows/notepad.exe": b"MZ notepad of a well-known system",
    "photos/a.jpg": b"\xff\xd8 picture a",
    "photos/b.jpg": b"\xff\xd8 picture b",
    "photos/c.jpg": b"\xff\xd8 picture c",
    "photos/d.jpg": b"\xff\xd8 picture d",
    "notes/plan.txt": b"meet at the harbour at nine",
}
NSRL_HEADER = (
    '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
)
BASE = random.Random(7).getrandbits(256)


def digest(name: str, algorithm: str) -> str:
    return hashlib.new(algorithm, FILES[name]).hexdigest()


def flipped(value: int, bits: int, start: int = 0) -> str:
    """A PDQ hash ``bits`` bits away from ``value``."""
    return f"{value ^ (((1 << bits) - 1) << start):064x}"


@pytest.fixture
def evidence(app: Caselens, case: str, tmp_path: Path) -> dict[str, str]:
    """The case's items by file name, after ingesting FILES."""
    root = tmp_path / "evidence"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    app.ingest.ingest(ADMIN, case, [str(root)])
    rows = app.items.list(ADMIN, case, limit=1000)
    by_name = {row["path"].split("evidence/", 1)[-1]: row["id"] for row in rows}
    return {name: by_name[name] for name in FILES}


@pytest.fixture
def service(app: Caselens) -> HashSetService:
    return HashSetService(app.runtime)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def case_id(app: Caselens) -> str:
    return app.cases.show(ADMIN, REFERENCE).id


def add_image(app: Caselens, item_id: str, context: Any, *, own: bool = True) -> None:
    """What the image ingestor will store: the item's own Image entity with a PDQ hash."""
    cid = case_id(app)
    with app.runtime.transaction() as connection:
        connection.execute(
            insert(entities).values(
                case_id=cid,
                entity_id=entity_id(cid, "item", item_id) if own else entity_id(cid, "x"),
                schema="Image",
                item_id=item_id,
                generation=1,
                properties={},
                superseded=False,
                context=context,
            )
        )


def test_import_match_and_known_good(
    app: Caselens, service: HashSetService, evidence: dict[str, str], tmp_path: Path
) -> None:
    kernel, notepad = "windows/kernel32.dll", "windows/notepad.exe"
    nsrl = write(
        tmp_path / "NSRLFile.txt",
        [
            NSRL_HEADER,
            f'"{digest(kernel, "sha1").upper()}","{digest(kernel, "md5").upper()}","0",'
            '"kernel32.dll",34,1,"1",""',
            # The same file in a second product: stored once.
            f'"{digest(kernel, "sha1").upper()}","{digest(kernel, "md5").upper()}","0",'
            '"kernel32.dll",34,2,"1",""',
            f'"{digest(notepad, "sha1")}","{digest(notepad, "md5")}","0","notepad.exe",33,1,"1",""',
            '"broken line"',
        ],
    )
    known = service.import_set(ADMIN, "NSRL 2.x", "known-good", nsrl)
    assert (known.format, known.entries, known.lines, known.bad_lines) == ("nsrl-rds2", 4, 5, 1)
    assert known.counts == {"md5": 3, "sha1": 3}
    assert known.problems == [[5, "1 fields where the header has 8"]]
    assert known.source_sha256 == hashlib.sha256(nsrl.read_bytes()).hexdigest()
    assert known.pdq_threshold is None

    # notepad.exe is on the known-good list and on an alert list: it must not be hidden.
    alert = write(
        tmp_path / "alert.sha256",
        [
            "# seized in another case",
            f"{digest('notes/plan.txt', 'sha256')}  plan.txt",
            f"{digest(notepad, 'sha256')}  renamed-tool.exe",
            f"{'0' * 64}  not in this case",
        ],
    )
    service.import_set(ADMIN, "op-harbour alerts", "alert", alert)
    with pytest.raises(InvalidInput, match="exists already"):
        service.import_set(ADMIN, "op-harbour alerts", "alert", alert)
    assert [s.name for s in service.list_sets(ADMIN)] == ["NSRL 2.x", "op-harbour alerts"]

    run = service.match(ADMIN, REFERENCE)
    assert (run.sets, run.added, run.removed, run.total) == (2, 6, 0, 6)
    assert run.by_set == [
        {"set": "op-harbour alerts", "kind": "alert", "items": 2, "flags": 2},
        {"set": "NSRL 2.x", "kind": "known-good", "items": 2, "flags": 4},
    ]
    assert [(m["path"].rsplit("/", 1)[-1], m["set"], m["algorithm"]) for m in run.matches] == [
        ("plan.txt", "op-harbour alerts", "sha256"),
        ("notepad.exe", "op-harbour alerts", "sha256"),
        ("kernel32.dll", "NSRL 2.x", "md5"),
        ("kernel32.dll", "NSRL 2.x", "sha1"),
        ("notepad.exe", "NSRL 2.x", "md5"),
        ("notepad.exe", "NSRL 2.x", "sha1"),
    ]
    first = run.matches[0]
    assert first["item_id"] == evidence["notes/plan.txt"]
    assert (first["kind"], first["distance"], first["label"]) == ("alert", None, "plan.txt")
    assert first["item_value"] == first["list_value"] == digest("notes/plan.txt", "sha256")

    cid = case_id(app)
    with app.runtime.transaction() as connection:
        assert known_good_item_ids(connection, cid) == {evidence[kernel]}
        shown = item_hash_matches(connection, cid, evidence[notepad])
        visible = connection.execute(
            select(func.count())
            .select_from(hash_matches)
            .where(hash_matches.c.item_id.not_in(known_good_items(cid)))
        ).scalar_one()
    assert [(m["kind"], m["set"], m["algorithm"]) for m in shown] == [
        ("alert", "op-harbour alerts", "sha256"),
        ("known-good", "NSRL 2.x", "md5"),
        ("known-good", "NSRL 2.x", "sha1"),
    ]
    assert visible == 4
    listed = app.items.list(ADMIN, REFERENCE, hide_known_good=True)
    assert evidence[kernel] not in {row["id"] for row in listed}
    assert evidence[notepad] in {row["id"] for row in listed}  # also on an alert list
    detail = app.items.show(ADMIN, REFERENCE, evidence[notepad])
    assert [(m["kind"], m["algorithm"]) for m in detail.hash_matches] == [
        ("alert", "sha256"),
        ("known-good", "md5"),
        ("known-good", "sha1"),
    ]

    # A second run adds nothing and keeps the first flags' times.
    again = service.match(ADMIN, REFERENCE, limit=2)
    assert (again.added, again.total, len(again.matches)) == (0, 6, 2)
    assert again.matches[0]["matched_at"] == first["matched_at"]

    installation = app.audit.installation_log(ADMIN, action="hashsets.import")
    assert [r["details"]["object"] for r in installation] == ["NSRL 2.x", "op-harbour alerts"]
    assert installation[0]["details"]["entries"] == 4
    logged = app.audit.case_log(ADMIN, REFERENCE, action="hashsets.match")
    assert logged[0]["details"]["purpose"] == "testing"
    assert logged[0]["details"]["items"] == {"op-harbour alerts": 2, "NSRL 2.x": 2}


def test_pdq_matches_and_near_duplicates(
    app: Caselens, service: HashSetService, evidence: dict[str, str], tmp_path: Path
) -> None:
    a, b, c, d = (evidence[f"photos/{n}.jpg"] for n in "abcd")
    add_image(app, a, {"pdq": {"hash": f"{BASE:064x}", "quality": 100}})
    add_image(app, b, {"pdq": {"hash": flipped(BASE, 6).upper(), "quality": 90}})
    add_image(app, c, {"pdq": {"hash": flipped(BASE, 40, 100), "quality": 80}})
    add_image(app, d, {"pdq": {"hash": "not hex", "quality": 80}})  # unusable, counted
    add_image(app, evidence["notes/plan.txt"], {"pdq": {"hash": f"{BASE:064x}"}}, own=False)

    listed = flipped(BASE, 10, 3)  # 10 bits from a's hash, 10 from b's
    pdq_list = write(tmp_path / "pdq.csv", [f"{listed},95,known series", f"{'0' * 64},100"])
    info = service.import_set(ADMIN, "series", "alert", pdq_list, pdq_threshold=31)
    assert (info.format, info.entries, info.pdq_threshold) == ("pdq", 2, 31)

    run = service.match(ADMIN, REFERENCE)
    assert (run.images, run.unusable_images, run.added) == (3, 1, 2)
    flagged = {m["item_id"]: m for m in run.matches}
    assert set(flagged) == {a, b}
    expected_a = (int(listed, 16) ^ BASE).bit_count()
    assert flagged[a]["distance"] == expected_a == 10
    assert (flagged[a]["list_value"], flagged[a]["label"]) == (listed, "known series")
    assert flagged[b]["item_value"] == flipped(BASE, 6)
    assert flagged[b]["distance"] == (int(listed, 16) ^ int(flipped(BASE, 6), 16)).bit_count()

    groups = service.near_duplicates(ADMIN, REFERENCE, 31)
    assert (groups.images, groups.unusable_images) == (3, 1)
    assert [[m["item_id"] for m in group] for group in groups.groups] == [[a, b]]
    assert [m["nearest"] for m in groups.groups[0]] == [6, 6]
    wide = service.near_duplicates(ADMIN, REFERENCE, 50)
    assert [sorted(m["item_id"] for m in group) for group in wide.groups] == [sorted([a, b, c])]

    # The image of b processed again with another hash: its flag no longer holds.
    with app.runtime.transaction() as connection:
        connection.execute(update(entities).where(entities.c.item_id == b).values(superseded=True))
    add_image(app, b, {"pdq": {"hash": flipped(BASE, 90, 10), "quality": 90}})
    rerun = service.match(ADMIN, REFERENCE)
    assert (rerun.added, rerun.removed, rerun.total) == (0, 1, 1)
    assert [m["item_id"] for m in rerun.matches] == [a]


def test_refusals_and_failed_imports_leave_nothing(
    app: Caselens, service: HashSetService, evidence: dict[str, str], tmp_path: Path
) -> None:
    listed = write(tmp_path / "list.txt", [digest("notes/plan.txt", "md5")])
    app.users.add(ADMIN, "alice")
    app.users.add(ADMIN, "rita")
    app.cases.add_member(ADMIN, REFERENCE, "rita", "reviewer")
    alice = Actor(user="alice", purpose="testing", os_user="alice")
    rita = Actor(user="rita", purpose="testing", os_user="rita")
    with pytest.raises(AccessDenied, match="alice is not admin"):
        service.import_set(alice, "mine", "alert", listed)
    assert service.list_sets(alice) == []  # any user may see which lists exist
    denied = app.audit.installation_log(ADMIN, action="access.denied")
    assert denied[-1]["details"]["attempted"] == "hashsets.import"
    with pytest.raises(AccessDenied, match="not a member"):
        service.match(alice, REFERENCE)
    with pytest.raises(AccessDenied, match="reviewer"):
        service.match(rita, REFERENCE)
    assert service.near_duplicates(rita, REFERENCE).groups == []  # reading is open to members

    with pytest.raises(InvalidInput, match="unknown kind 'bad'"):
        service.import_set(ADMIN, "x", "bad", listed)
    with pytest.raises(InvalidInput, match=r"outside 0\.\.128"):
        service.import_set(ADMIN, "x", "alert", listed, pdq_threshold=200)
    empty = write(tmp_path / "empty.txt", ["# nothing", "garbage"])
    with pytest.raises(UnreadableList, match=r"no hashes in empty\.txt read as plain"):
        service.import_set(ADMIN, "empty", "alert", empty)
    with app.runtime.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(hash_sets)).scalar_one() == 0
        assert (
            connection.execute(select(func.count()).select_from(hash_set_entries)).scalar_one() == 0
        )

    app.cases.close(ADMIN, REFERENCE)
    with pytest.raises(InvalidInput, match="closed"):
        service.match(ADMIN, REFERENCE)


def test_large_list_imports_in_batches(
    app: Caselens, service: HashSetService, case: str, tmp_path: Path
) -> None:
    count = 45_000  # more than two insert batches
    values = [hashlib.sha1(str(n).encode()).hexdigest() for n in range(count)]
    path = write(tmp_path / "big.txt", [*values, values[0], values[1]])
    info = service.import_set(ADMIN, "big", "known-good", path)
    assert (info.entries, info.counts, info.lines) == (count, {"sha1": count + 2}, count + 2)
