"""Facet counts from a columnar copy of each case's facet fields.

Counting facets in SQL means reading the document row of every match: at a million
documents and a common word, a second and more. Instead each case's facet fields (type,
language, month, identifier kinds, sender) are kept as numpy arrays sorted by document
id; a search fetches only the ids of its matches and counts them with ``bincount``.

The copy is tied to the case's ``search_state`` token, which every change to the case's
index replaces in its own transaction: a copy is used as it is only while the token it
was made under is still the one the database shows. When the token has changed, the
copy is brought up to date rather than read again: the case's document ids are read
(from an index, without the documents), the rows of the ids the copy lacks are read, and
the ids no longer there are dropped. That is exact because a document id is never given
twice (``search_state.high_id``) and a copy made by a transaction that changed the index
itself, whose ids a rollback could hand out again, is never kept. The copy lives in
memory (per database and case) and, when a directory is given, on disk, so that a fresh
process need not rebuild it. Documents a search finds but the copy lacks (committed after
it was made) are read from the database for that search alone.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import os
import secrets
import threading
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Row, bindparam, text

from caselens.search.document import KIND_BITS, mask_kinds

TOP_SENDERS = 10
FACETS = ("type", "lang", "month", "sender", "kind")
MEMORY_CASES = 8  # copies kept in memory, least recently used dropped first
FORMAT = 3  # of the files on disk; a file of another format is rebuilt
# A copy lacking more than this share of the case's documents is read again whole:
# reading rows by id costs more per row than reading whole columns.
UPDATE_SHARE = 0.125
_CHANGED_IN = "caselens.search_changed_in"  # connection.info: the transaction that bumped

Facets = dict[str, list[tuple[str, int]]]
Codes = npt.NDArray[np.int32]
# ids, kinds and the string columns of a span of rows, in one (any) row order
# (the sender marked: '' for none, else '=' and the sender)
_Span = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[str, list[str]]]

_COLUMNS = "id, doc_type, COALESCE(lang, ''), COALESCE(substr(date, 1, 7), ''), kinds, sender"
SPAN_IDS = 4_000_000  # ids per statement: bounds the strings (SQLite's limit is 1 GB)
_STRINGS = ("type", "lang", "month", "sender")
_SEPARATOR = "\x1f"  # ASCII unit separator
_RANGE = "id >= :low AND id < :high"
_ROWS_SQL = f"SELECT {_COLUMNS} FROM search_docs WHERE case_id = :case AND {_RANGE}"  # noqa: S608
_BY_IDS = text(f"SELECT {_COLUMNS} FROM search_docs WHERE id IN :ids").bindparams(  # noqa: S608
    bindparam("ids", expanding=True)
)
# the sender marked so that a document without one ('') differs from an empty sender ('=')
_EXPRESSIONS = (
    "doc_type",
    "COALESCE(lang, '')",
    "COALESCE(substr(date, 1, 7), '')",
    "CASE WHEN sender IS NULL THEN '' ELSE '=' || sender END",
)


def new_token() -> str:
    return secrets.token_hex(16)


def bump(connection: Connection, case_ids: Iterable[str]) -> None:
    """Mark the cases' indexes changed (in the caller's transaction)."""
    connection.info[_CHANGED_IN] = connection.get_transaction()
    for case_id in sorted(set(case_ids)):  # one order everywhere: no deadlock between two
        connection.execute(
            text(
                "INSERT INTO search_state (case_id, token) VALUES (:case, :token) "
                "ON CONFLICT (case_id) DO UPDATE SET token = excluded.token"
            ),
            {"case": case_id, "token": new_token()},
        )


def changed_in_this_transaction(connection: Connection) -> bool:
    """Whether the connection's current transaction changed some case's index."""
    return connection.info.get(_CHANGED_IN) is connection.get_transaction()


def record_high_id(connection: Connection, case_ids: Iterable[str], high_id: int) -> None:
    """Note the highest document id given to the cases (rows made by ``bump``)."""
    for case_id in sorted(set(case_ids)):
        connection.execute(
            text(
                "UPDATE search_state SET high_id = :high WHERE case_id = :case AND high_id < :high"
            ),
            {"case": case_id, "high": high_id},
        )


def current_token(connection: Connection, case_id: str) -> str:
    token = connection.execute(
        text("SELECT token FROM search_state WHERE case_id = :case"), {"case": case_id}
    ).scalar()
    return str(token or "")  # "": no change since the state table came


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The distinct values of one column, sorted: code order is alphabetical order, so
    ties between counts go by name without another sort."""

    values: list[str]


@dataclass(frozen=True, slots=True)
class FacetColumns:
    """One case's facet fields, by document id (ascending)."""

    token: str
    ids: npt.NDArray[np.int64]
    doc_type: Codes
    lang: Codes
    month: Codes  # code of "" for documents without a date
    sender: Codes  # -1 without a sender
    kinds: npt.NDArray[np.int64]  # bits of KIND_BITS
    vocabularies: dict[str, Vocabulary]  # type, lang, month, sender
    # position of each id, -1 for none: made on first count when the ids are dense
    _position_of: list[npt.NDArray[np.int32]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @classmethod
    def from_rows(cls, token: str, rows: Sequence[Sequence[Any]]) -> FacetColumns:
        """The copy from rows of ``_COLUMNS`` (sender None: no sender)."""
        return cls.from_columns(token, *_as_columns(rows))

    @classmethod
    def from_columns(
        cls,
        token: str,
        ids: npt.NDArray[np.int64],
        kinds: npt.NDArray[np.int64],
        strings: Mapping[str, Sequence[str]],
    ) -> FacetColumns:
        """The copy from whole columns in one row order (any), named as in FACETS and
        with the sender marked as in ``_Span``."""
        encoded: dict[str, Codes] = {}
        vocabularies: dict[str, Vocabulary] = {}
        for name in _STRINGS:
            encoded[name], vocabularies[name] = _encode(strings[name], marked=name == "sender")
        unsorted = cls(
            token,
            ids,
            encoded["type"],
            encoded["lang"],
            encoded["month"],
            encoded["sender"],
            kinds,
            vocabularies,
        )
        # the rows come in the database's order
        return unsorted._taken(np.argsort(ids, kind="stable"))

    # -- counting --------------------------------------------------------------------

    def count(self, connection: Connection, matches: npt.NDArray[np.int64]) -> Facets:
        """Facets of the documents ``matches`` names (ids, in any order)."""
        places, known = self._places(matches)
        counters: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
        for name, codes in (("type", self.doc_type), ("lang", self.lang), ("month", self.month)):
            values = self.vocabularies[name].values
            counted = np.bincount(codes[places], minlength=len(values))
            for code in np.flatnonzero(counted):
                counters[name][values[code]] += int(counted[code])
        # Documents by their set of kinds (few distinct sets), then each kind's total.
        by_set = np.bincount(self.kinds[places])
        sets = np.flatnonzero(by_set)
        for bit, kind in enumerate(KIND_BITS):
            found = int(by_set[sets[(sets >> bit) & 1 == 1]].sum())
            if found:
                counters["kind"][kind] = found
        senders = self.sender[places]
        senders = senders[senders >= 0]
        sender_counts = np.bincount(senders, minlength=len(self.vocabularies["sender"].values))
        missing = matches[~known]
        if len(missing):
            _count_rows(connection, [int(doc_id) for doc_id in missing], counters)
        return _facets(counters, self._top_senders(sender_counts, counters["sender"]))

    def _places(
        self, matches: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.bool_]]:
        """The rows of the ``matches`` the copy holds, and which matches those are."""
        position_of = self._position_map()
        if position_of is not None:
            # A lookup by id: a few times faster than a binary search per match.
            inside = matches < len(position_of)
            found = np.full(len(matches), -1, dtype=np.int32)
            found[inside] = position_of[matches[inside]]
            known = found >= 0
            return found[known], known
        places = np.searchsorted(self.ids, matches)
        known = places < len(self.ids)
        known[known] = self.ids[places[known]] == matches[known]
        return places[known], known

    def _position_map(self) -> npt.NDArray[np.int32] | None:
        """Row by document id, when the ids are dense enough for an array of them to be
        small (ids are never reused, so many removals can make them sparse)."""
        if self._position_of:
            return self._position_of[0]
        if not len(self.ids) or int(self.ids[-1]) > 4 * len(self.ids) + 65536:
            return None
        position_of = np.full(int(self.ids[-1]) + 1, -1, dtype=np.int32)
        position_of[self.ids] = np.arange(len(self.ids), dtype=np.int32)
        self._position_of.append(position_of)  # made once per copy; a copy never changes
        return position_of

    def _top_senders(
        self, counts: npt.NDArray[np.int64], extra: Counter[str]
    ) -> list[tuple[str, int]]:
        values = self.vocabularies["sender"].values
        if extra:  # documents the copy lacks: merge by name, a rare and small case
            merged = Counter(extra)
            for code in np.flatnonzero(counts):
                merged[values[code]] += int(counts[code])
            return sorted(merged.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_SENDERS]
        present = np.flatnonzero(counts)
        # lexsort: the last key sorts first. Most documents first, then by name (= code).
        order = np.lexsort((present, -counts[present]))[:TOP_SENDERS]
        return [(values[present[i]], int(counts[present[i]])) for i in order]

    # -- bringing up to date ------------------------------------------------------------

    def restricted(self, present: npt.NDArray[np.int64]) -> FacetColumns:
        """The copy without the documents whose ids are not in ``present`` (sorted)."""
        kept = np.isin(self.ids, present, assume_unique=True)
        # values no document has any more stay in the vocabularies and count as zero
        return self if kept.all() else self._taken(kept)

    def _taken(self, rows: npt.NDArray[Any]) -> FacetColumns:
        """The copy of the documents ``rows`` selects (a mask or positions, in order)."""
        return FacetColumns(
            self.token,
            self.ids[rows],
            self.doc_type[rows],
            self.lang[rows],
            self.month[rows],
            self.sender[rows],
            self.kinds[rows],
            self.vocabularies,
        )

    def merged(self, token: str, span: _Span) -> FacetColumns:
        """The copy with the documents of ``span`` (ids it lacks) added, under ``token``."""
        ids, kinds, strings = span
        old: dict[str, Codes] = {
            "type": self.doc_type,
            "lang": self.lang,
            "month": self.month,
            "sender": self.sender,
        }
        codes: dict[str, Codes] = {}
        vocabularies: dict[str, Vocabulary] = {}
        for name in _STRINGS:
            marked = name == "sender"  # '' is no sender, else '=' and the sender
            values = [v[1:] for v in strings[name] if v] if marked else strings[name]
            vocabulary, moved = _merged_vocabulary(self.vocabularies[name].values, values)
            previous = old[name]
            if moved is not None:  # the old codes follow their values
                previous = np.where(previous >= 0, moved[np.maximum(previous, 0)], -1)
            code_of = {value: bisect.bisect_left(vocabulary, value) for value in set(values)}
            if marked:
                code_of = {f"={value}": code for value, code in code_of.items()}
                code_of[""] = -1
            new = np.fromiter(map(code_of.__getitem__, strings[name]), np.int64)
            codes[name] = np.concatenate([previous, new]).astype(np.int32)
            vocabularies[name] = Vocabulary(vocabulary)
        both = FacetColumns(
            token,
            np.concatenate([self.ids, ids]),
            codes["type"],
            codes["lang"],
            codes["month"],
            codes["sender"],
            np.concatenate([self.kinds, kinds]),
            vocabularies,
        )
        return both._taken(np.argsort(both.ids, kind="stable"))

    # -- on disk ---------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the copy atomically (a derived file: a torn one is rebuilt, not trusted)."""
        header = {
            "format": FORMAT,
            "token": self.token,
            "vocabularies": {name: v.values for name, v in self.vocabularies.items()},
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            ids=self.ids,
            doc_type=self.doc_type,
            lang=self.lang,
            month=self.month,
            sender=self.sender,
            kinds=self.kinds,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> FacetColumns | None:
        """The copy at ``path`` (under whatever token it was made), None if unusable."""
        try:
            with np.load(path, allow_pickle=False) as stored:
                header = json.loads(stored["header"].tobytes())
                if header.get("format") != FORMAT or not isinstance(header.get("token"), str):
                    return None
                columns = cls(
                    header["token"],
                    stored["ids"],
                    stored["doc_type"],
                    stored["lang"],
                    stored["month"],
                    stored["sender"],
                    stored["kinds"],
                    {name: Vocabulary(v) for name, v in header["vocabularies"].items()},
                )
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
            return None  # missing, torn or foreign: rebuilt from the database
        arrays = (columns.ids, columns.doc_type, columns.lang, columns.month, columns.sender)
        return columns if len({len(a) for a in (*arrays, columns.kinds)}) == 1 else None


class FacetCache:
    """Facet copies of recently searched cases, in memory and optionally on disk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._copies: OrderedDict[tuple[str, str], FacetColumns] = OrderedDict()
        self._lock = threading.Lock()

    def columns(self, connection: Connection, case_id: str) -> FacetColumns:
        """The case's facet copy as of now, from memory, disk or the database."""
        token = current_token(connection, case_id)
        key = (connection.engine.url.render_as_string(hide_password=True), case_id)
        with self._lock:
            found = self._copies.get(key)
            if found is not None and found.token == token:
                self._copies.move_to_end(key)
                return found
        path = self.directory / f"{case_id}.npz" if self.directory else None
        if found is None and path:
            found = FacetColumns.load(path)
        if found is not None and found.token == token:
            columns = found
        else:
            columns = updated_columns(connection, case_id, token, found)
            # A copy that saw this transaction's own changes to the index is not kept: a
            # rollback would give their ids to other documents. And on PostgreSQL each
            # statement sees what was committed when it began: a change committed around
            # the read makes the copy unfit to keep. (Either way it is right for this
            # search, whose documents it lacks are read one by one.)
            if changed_in_this_transaction(connection) or (
                current_token(connection, case_id) != token
            ):
                return columns
            if path:
                with contextlib.suppress(OSError):  # read-only or full: memory only
                    columns.save(path)
        with self._lock:
            self._copies[key] = columns
            self._copies.move_to_end(key)
            while len(self._copies) > MEMORY_CASES:
                self._copies.popitem(last=False)
        return columns


_SHARED: dict[Path | None, FacetCache] = {}
_SHARED_LOCK = threading.Lock()


def shared_cache(directory: Path | None = None) -> FacetCache:
    """The process's cache for ``directory`` (None: memory only), made on first use."""
    with _SHARED_LOCK:
        found = _SHARED.get(directory)
        if found is None:
            found = _SHARED[directory] = FacetCache(directory)
        return found


def updated_columns(
    connection: Connection, case_id: str, token: str, stale: FacetColumns | None
) -> FacetColumns:
    """The case's copy under ``token``: ``stale`` brought up to date, or read anew."""
    if stale is None:
        return read_columns(connection, case_id, token)
    present = case_document_ids(connection, case_id)
    lacking = np.setdiff1d(present, stale.ids, assume_unique=True)
    if len(lacking) > UPDATE_SHARE * len(present):
        return read_columns(connection, case_id, token)
    rows: list[Row[Any]] = []
    for start in range(0, len(lacking), 500):
        chunk = [int(doc_id) for doc_id in lacking[start : start + 500]]
        rows += connection.execute(_BY_IDS, {"ids": chunk}).all()
    return stale.restricted(present).merged(token, _as_columns(rows))


def case_document_ids(connection: Connection, case_id: str) -> npt.NDArray[np.int64]:
    """The ids of the case's documents, sorted, read from an index on ``case_id`` (one
    string per span of ids, as ``read_columns`` reads)."""
    span = connection.execute(
        text("SELECT count(*), min(id), max(id) FROM search_docs WHERE case_id = :case"),
        {"case": case_id},
    ).one()
    if not span[0]:
        return np.empty(0, np.int64)
    if connection.dialect.name == "sqlite":
        # "+id": the id range filters the index's entries rather than choosing the table.
        joined, where = "group_concat(id, ',')", "case_id = :case AND +id >= :low AND +id < :high"
    else:
        joined, where = "string_agg(CAST(id AS TEXT), ',')", f"case_id = :case AND {_RANGE}"
    statement = text(f"SELECT count(*), {joined} FROM search_docs WHERE {where}")  # noqa: S608
    parts = []
    for low in range(int(span[1]), int(span[2]) + 1, SPAN_IDS):
        count, ids = connection.execute(
            statement, {"case": case_id, "low": low, "high": low + SPAN_IDS}
        ).one()
        if count:
            parts.append(np.fromstring(ids, dtype=np.int64, sep=","))
    return np.sort(np.concatenate(parts))


def read_columns(connection: Connection, case_id: str, token: str) -> FacetColumns:
    """The case's facet copy, read from the database.

    Each column comes back as one string per span of ids (``group_concat`` /
    ``string_agg``): a million rows read as Python tuples cost seconds, the same values
    as a few long strings a fraction of that. A value holding the separator is caught by
    the count check and that span is read row by row instead.
    """
    span = connection.execute(
        text("SELECT count(*), min(id), max(id) FROM search_docs WHERE case_id = :case"),
        {"case": case_id},
    ).one()
    if not span[0]:
        return FacetColumns.from_rows(token, [])
    statement = text(_spans_sql(connection, int(span[0])))
    ids: list[npt.NDArray[np.int64]] = []
    kinds: list[npt.NDArray[np.int64]] = []
    strings: dict[str, list[str]] = {name: [] for name in _STRINGS}
    for low in range(int(span[1]), int(span[2]) + 1, SPAN_IDS):
        bounds = {"case": case_id, "low": low, "high": low + SPAN_IDS}
        part = _decode_span(connection.execute(statement, bounds).one())
        if part is None:  # a value held the separator
            part = _as_columns(connection.execute(text(_ROWS_SQL), bounds).all())
        ids.append(part[0])
        kinds.append(part[1])
        for name in _STRINGS:
            strings[name] += part[2][name]
    return FacetColumns.from_columns(token, np.concatenate(ids), np.concatenate(kinds), strings)


def _spans_sql(connection: Connection, documents: int) -> str:
    if connection.dialect.name == "sqlite":
        numbers = "group_concat({}, ',')"
        strings = "group_concat({}, char(31))"
        rows = connection.execute(text("SELECT max(id) FROM search_docs")).scalar() or 0
        # A case that fills much of the table is read in one pass over the table's
        # ranges; a smaller one through its index ("+" keeps the index out, and the
        # index's date order would make the table reads random).
        where = (
            f"+case_id = :case AND {_RANGE}"
            if documents * 4 >= int(rows)
            else f"id IN (SELECT id FROM search_docs WHERE case_id = :case AND {_RANGE})"  # noqa: S608
        )
    else:
        numbers = "string_agg(CAST({} AS TEXT), ',')"
        strings = "string_agg({}, chr(31))"
        where = f"case_id = :case AND {_RANGE}"
    selected = [
        "count(*)",
        numbers.format("id"),
        numbers.format("kinds"),
        *(strings.format(expression) for expression in _EXPRESSIONS),
    ]
    return f"SELECT {', '.join(selected)} FROM search_docs WHERE {where}"  # noqa: S608


def _decode_span(row: Sequence[Any]) -> _Span | None:
    count = int(row[0])
    if not count:
        return np.empty(0, np.int64), np.empty(0, np.int64), {name: [] for name in _STRINGS}
    ids = np.fromstring(row[1], dtype=np.int64, sep=",")
    kinds = np.fromstring(row[2], dtype=np.int64, sep=",")
    strings: dict[str, list[str]] = {
        name: row[3 + i].split(_SEPARATOR) for i, name in enumerate(_STRINGS)
    }
    lengths = [len(ids), len(kinds), *(len(column) for column in strings.values())]
    if any(length != count for length in lengths):
        return None
    return ids, kinds, strings


def _merged_vocabulary(
    known: list[str], values: Iterable[str]
) -> tuple[list[str], npt.NDArray[np.int64] | None]:
    """``known`` (sorted) with the ``values`` it lacks added in order, and the new code of
    each known value (None when nothing was added and codes stay)."""
    added = []
    for value in sorted(set(values)):
        place = bisect.bisect_left(known, value)
        if place == len(known) or known[place] != value:
            added.append((place, value))
    if not added:
        return known, None
    vocabulary: list[str] = []
    start = 0
    for place, value in added:
        vocabulary += known[start:place]
        vocabulary.append(value)
        start = place
    vocabulary += known[start:]
    places = np.fromiter((place for place, _ in added), np.int64, len(added))
    # a known value moves up by the number of added values that sort before it
    positions = np.arange(len(known), dtype=np.int64)
    return vocabulary, positions + np.searchsorted(places, positions, side="right")


def _as_columns(rows: Sequence[Sequence[Any]]) -> _Span:
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    strings = {name: list(columns[i]) for name, i in zip(_STRINGS[:3], (1, 2, 3), strict=True)}
    strings["sender"] = ["" if sender is None else f"={sender}" for sender in columns[5]]
    return (
        np.fromiter(columns[0], dtype=np.int64, count=len(rows)),
        np.fromiter(columns[4], dtype=np.int64, count=len(rows)),
        strings,
    )


def _encode(values: Sequence[str], *, marked: bool = False) -> tuple[Codes, Vocabulary]:
    """Codes of ``values`` in their sorted vocabulary (see ``Vocabulary``); when
    ``marked``, '' is -1 (no value) and the rest lose their mark."""
    distinct = dict.fromkeys(values)
    if marked:
        distinct.pop("", None)
    alphabetical = sorted(distinct)  # one mark before each: the same order
    codes = {value: code for code, value in enumerate(alphabetical)}
    if marked:
        codes[""] = -1
        alphabetical = [value[1:] for value in alphabetical]
    found = np.fromiter(map(codes.__getitem__, values), dtype=np.int32, count=len(values))
    return found, Vocabulary(alphabetical)


def _count_rows(
    connection: Connection, doc_ids: list[int], counters: dict[str, Counter[str]]
) -> None:
    for start in range(0, len(doc_ids), 500):
        rows = connection.execute(_BY_IDS, {"ids": doc_ids[start : start + 500]})
        for _id, doc_type, lang, month, kinds, sender in rows:
            counters["type"][doc_type] += 1
            counters["lang"][lang] += 1
            if month:
                counters["month"][month] += 1
            counters["kind"].update(mask_kinds(kinds))
            if sender is not None:
                counters["sender"][sender] += 1


def _facets(counters: dict[str, Counter[str]], senders: list[tuple[str, int]]) -> Facets:
    counters["month"].pop("", None)
    result = {
        name: sorted(counter.items(), key=lambda pair: (-pair[1], pair[0]))
        for name, counter in counters.items()
        if name != "sender"
    }
    result["month"] = sorted(counters["month"].items())
    result["sender"] = senders
    return result
