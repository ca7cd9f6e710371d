"""Hash sets: known-good and alert lists imported once, matched against a case's items.

Lists belong to the installation (an admin imports them, the installation's audit log
records it); a match run flags a case's items and is recorded in the case's audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from caselens.actor import Actor
from caselens.db.schema import hash_matches, hash_sets, items
from caselens.db.types import utcnow
from caselens.errors import AccessDenied, InvalidInput
from caselens.hashsets.entries import Algorithm, UnreadableList
from caselens.hashsets.importing import file_sha256, store_entries
from caselens.hashsets.matching import match_exact, match_pdq
from caselens.hashsets.parsers import open_list
from caselens.hashsets.queries import (
    ALERT,
    KINDS,
    case_images,
    match_rows,
)
from caselens.hashsets.thresholds import MAX_THRESHOLD
from caselens.services.access import (
    WRITER_ROLES,
    InstallationRole,
    purpose_for,
    require_installation_role,
    require_member,
    require_open,
    user_row,
)
from caselens.services.base import Service

DEFAULT_PDQ_THRESHOLD = 31  # PDQ's published match threshold, in bits of 256


@dataclass(frozen=True, slots=True)
class HashSetInfo:
    name: str
    kind: str
    format: str
    source_name: str
    source_sha256: str
    pdq_threshold: int | None
    entries: int  # distinct hashes stored
    lines: int
    bad_lines: int
    counts: dict[str, int]  # hashes read per algorithm, repeats included
    problems: list[list[Any]]  # the first bad lines: [line, reason]
    imported_at: datetime
    imported_by: str


@dataclass(slots=True)
class MatchRun:
    """What one match run found: counts per set, and the matches (alerts first)."""

    reference: str
    sets: int
    images: int  # images of the case with a PDQ hash
    unusable_images: int  # Image entities without a readable PDQ hash
    added: int  # flags new in this run
    removed: int  # PDQ flags that no longer hold (the image was processed again)
    total: int
    by_set: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)  # up to the limit given


@dataclass(slots=True)
class NearDuplicates:
    reference: str
    threshold: int
    images: int
    unusable_images: int
    groups: list[list[dict[str, Any]]]


class HashSetService(Service):
    def import_set(
        self,
        actor: Actor,
        name: str,
        kind: str,
        path: Path | str,
        fmt: str = "auto",
        pdq_threshold: int = DEFAULT_PDQ_THRESHOLD,
    ) -> HashSetInfo:
        """Import a list file as a new installation-wide set; all of it, or nothing."""
        name = _check_name(name)
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
        _check_threshold(pdq_threshold)
        hash_list = open_list(Path(path), fmt)
        source_sha256 = file_sha256(hash_list.path)
        try:
            with self._transaction() as connection:
                require_installation_role(connection, actor, InstallationRole.ADMIN)
                if connection.execute(
                    select(hash_sets.c.id).where(hash_sets.c.name == name)
                ).first():
                    raise InvalidInput(f"a hash set named {name!r} exists already")
                set_id = connection.execute(
                    insert(hash_sets)
                    .values(
                        name=name,
                        kind=kind,
                        format=hash_list.format,
                        source_name=hash_list.path.name,
                        source_sha256=source_sha256,
                        entries=0,
                        lines=0,
                        bad_lines=0,
                        counts={},
                        problems=[],
                        imported_at=utcnow(),
                        imported_by=actor.user,
                    )
                    .returning(hash_sets.c.id)
                ).scalar_one()
                stored = store_entries(connection, set_id, hash_list)
                report = hash_list.report
                if not report.entries:
                    raise UnreadableList(
                        f"no hashes in {hash_list.path.name} read as {hash_list.format}: "
                        + report.summary()
                    )
                connection.execute(
                    update(hash_sets)
                    .where(hash_sets.c.id == set_id)
                    .values(
                        entries=stored,
                        lines=report.lines,
                        bad_lines=report.bad_lines,
                        counts=report.by_algorithm,
                        problems=[list(problem) for problem in report.problems],
                        pdq_threshold=pdq_threshold
                        if Algorithm.PDQ in report.by_algorithm
                        else None,
                    )
                )
                info = _info(
                    connection.execute(select(hash_sets).where(hash_sets.c.id == set_id)).one()
                )
                self._audit(
                    connection,
                    actor,
                    "hashsets.import",
                    target=name,
                    details={
                        "kind": kind,
                        "format": info.format,
                        "file": str(hash_list.path),
                        "sha256": source_sha256,
                        "entries": stored,
                        "bad_lines": report.bad_lines,
                    },
                )
                return info
        except AccessDenied as denied:
            self._record_refusal(actor, "hashsets.import", None, denied)
            raise

    def list_sets(self, actor: Actor) -> list[HashSetInfo]:
        """Every imported set, by name; any registered user may see them."""
        try:
            with self._transaction() as connection:
                user_row(connection, actor.user)
                rows = connection.execute(select(hash_sets).order_by(hash_sets.c.name)).all()
                self._audit(connection, actor, "hashsets.list", details={"count": len(rows)})
                return [_info(row) for row in rows]
        except AccessDenied as denied:
            self._record_refusal(actor, "hashsets.list", None, denied)
            raise

    def match(self, actor: Actor, reference: str, *, limit: int = 1000) -> MatchRun:
        """Flag the case's items found on any list; list the flags, alerts first."""

        def body(connection: Connection, case: Row[Any]) -> MatchRun:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            purpose = purpose_for(actor, case)
            now = utcnow()
            added = match_exact(connection, case.id, now)
            images, unusable = case_images(connection, case.id)
            pdq_added, removed = match_pdq(connection, case.id, images, now)
            run = MatchRun(
                reference=case.reference,
                sets=connection.execute(select(func.count()).select_from(hash_sets)).scalar_one(),
                images=len(images),
                unusable_images=unusable,
                added=added + pdq_added,
                removed=removed,
                total=0,
                by_set=_counts_by_set(connection, case.id),
                matches=_listed(connection, case.id, limit),
            )
            run.total = sum(entry["flags"] for entry in run.by_set)
            self._audit(
                connection,
                actor,
                "hashsets.match",
                case=case,
                purpose=purpose,
                details={
                    "sets": run.sets,
                    "added": run.added,
                    "removed": run.removed,
                    "total": run.total,
                    "items": {entry["set"]: entry["items"] for entry in run.by_set},
                },
            )
            return run

        return self._in_case(actor, "hashsets.match", reference, body)

    def near_duplicates(
        self, actor: Actor, reference: str, threshold: int = DEFAULT_PDQ_THRESHOLD
    ) -> NearDuplicates:
        """The case's images grouped by PDQ: linked by chains at most ``threshold`` bits apart."""
        _check_threshold(threshold)

        def body(connection: Connection, case: Row[Any]) -> NearDuplicates:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            images, unusable = case_images(connection, case.id)
            from caselens.hashsets import pdq  # numpy, imported on use

            found = pdq.near_duplicate_groups([image.pdq for image in images], threshold)
            groups = [
                [
                    {
                        "item_id": images[position].item_id,
                        "path": images[position].path,
                        "pdq": images[position].pdq,
                        "quality": images[position].quality,
                        "nearest": nearest,
                    }
                    for position, nearest in zip(group.members, group.nearest, strict=True)
                ]
                for group in found
            ]
            groups.sort(key=lambda members: (-len(members), members[0]["path"]))
            self._audit(
                connection,
                actor,
                "hashsets.near_duplicates",
                case=case,
                purpose=purpose,
                details={"threshold": threshold, "images": len(images), "groups": len(groups)},
            )
            return NearDuplicates(case.reference, threshold, len(images), unusable, groups)

        return self._in_case(actor, "hashsets.near_duplicates", reference, body)


def _counts_by_set(connection: Connection, case_id: str) -> list[dict[str, Any]]:
    query = (
        select(
            hash_sets.c.name,
            hash_sets.c.kind,
            func.count().label("flags"),
            func.count(hash_matches.c.item_id.distinct()).label("items"),
        )
        .join(hash_matches, hash_matches.c.set_id == hash_sets.c.id)
        .where(hash_matches.c.case_id == case_id)
        .group_by(hash_sets.c.name, hash_sets.c.kind)
        .order_by(hash_sets.c.kind, hash_sets.c.name)
    )
    return [
        {"set": r.name, "kind": r.kind, "items": r.items, "flags": r.flags}
        for r in connection.execute(query)
    ]


def _listed(connection: Connection, case_id: str, limit: int) -> list[dict[str, Any]]:
    # Alerts first: they are what an investigator must see; known-good flags can be many.
    query = (
        match_rows(case_id)
        .order_by(
            (hash_sets.c.kind != ALERT),
            hash_sets.c.name,
            items.c.path,
            hash_matches.c.item_id,
            hash_matches.c.algorithm,
        )
        .limit(limit)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def _info(row: Row[Any]) -> HashSetInfo:
    return HashSetInfo(
        name=row.name,
        kind=row.kind,
        format=row.format,
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        pdq_threshold=row.pdq_threshold,
        entries=int(row.entries),
        lines=int(row.lines),
        bad_lines=int(row.bad_lines),
        counts=dict(row.counts or {}),
        problems=list(row.problems or []),
        imported_at=row.imported_at,
        imported_by=row.imported_by,
    )


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 128 or any(not c.isprintable() for c in name):
        raise InvalidInput(f"invalid hash set name {name!r}: 1-128 printable characters")
    return name


def _check_threshold(threshold: int) -> None:
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            f"PDQ threshold {threshold} outside 0..{MAX_THRESHOLD} (bits of 256 that differ)"
        )
