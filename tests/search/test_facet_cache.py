"""The columnar facet copy: it follows every change, survives rollbacks and restarts,
and counts documents it lacks from the database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Connection, text

from caselens.search import facets
from caselens.search.document import SearchDocument
from caselens.search.engines import index_for
from caselens.search.facets import FacetCache, FacetColumns, current_token
from caselens.search.index import Resolvers, SearchIndex
from caselens.search.query import parse
from caselens.services import Caselens
from caselens.services.access import case_row
from tests.conftest import ADMIN
from tests.search import reference
from tests.search.test_equivalence import indexed, make_documents

RESOLVERS = Resolvers(lambda node: [], lambda code: code)


def brute_force(documents: list[SearchDocument], query: str) -> dict[str, dict[str, int]]:
    node = parse(query)
    return counts([d for d in documents if reference.matches(node, d, lambda n: [])])


def counts(hits: list[SearchDocument]) -> dict[str, dict[str, int]]:
    return {
        "type": dict(Counter(d.doc_type for d in hits)),
        "lang": dict(Counter(d.lang or "" for d in hits)),
        "month": dict(Counter(d.date[:7] for d in hits if d.date)),
        "sender": dict(Counter(d.sender for d in hits if d.sender)),
        "kind": dict(Counter(k for d in hits for k in {kind for kind, _ in d.selectors})),
    }


def facets_of(
    app: Caselens, index: SearchIndex, case_id: str, query: str
) -> dict[str, dict[str, int]]:
    with app.runtime.transaction() as connection:
        found = index.search(connection, case_id, parse(query), RESOLVERS, facets=True)
    return {name: dict(pairs) for name, pairs in found.facets.items()}


def renamed(documents: list[SearchDocument], prefix: str) -> list[SearchDocument]:
    """Other items with other facts: another type, language and sender."""
    for number, doc in enumerate(documents):
        doc.item_id = f"{prefix}{number:04d}"
        doc.doc_type, doc.lang, doc.sender = "note", "fra", f"{prefix}@example.org"
    return documents


def test_facets_follow_every_add_and_remove(tmp_path: Path, database_url: str | None) -> None:
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    index = index_for(app.runtime.engine.dialect.name, FacetCache())
    for query in ["wire", "bank OR gas", "date:2000..2002"]:
        assert facets_of(app, index, case_id, query) == brute_force(documents, query)
    extra = renamed(make_documents(case_id, seed=3, count=30), "new")
    with app.runtime.transaction() as connection:
        index.add(connection, extra)
    documents += extra
    assert facets_of(app, index, case_id, "wire") == brute_force(documents, "wire")
    gone = {d.item_id for d in documents[:40]}
    with app.runtime.transaction() as connection:
        index.remove_items(connection, sorted(gone))
    documents = [d for d in documents if d.item_id not in gone]
    assert facets_of(app, index, case_id, "wire") == brute_force(documents, "wire")
    app.close()


def test_a_rolled_back_change_leaves_no_stale_copy(
    tmp_path: Path, database_url: str | None
) -> None:
    """SQLite gives the ids of rolled-back documents again: a copy made while they were
    there must not describe the documents that take their ids afterwards."""
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    index = index_for(app.runtime.engine.dialect.name, FacetCache())
    doomed = renamed(make_documents(case_id, seed=5, count=20), "doomed")
    with app.runtime.engine.connect() as connection:
        transaction = connection.begin()
        index.add(connection, doomed)
        index.search(connection, case_id, parse("wire"), RESOLVERS, facets=True)
        transaction.rollback()
    kept = make_documents(case_id, seed=5, count=20)
    for number, doc in enumerate(kept):
        doc.item_id, doc.sender = f"kept{number:04d}", "kept@example.org"
    with app.runtime.transaction() as connection:
        index.add(connection, kept)
    documents += kept
    assert facets_of(app, index, case_id, "wire") == brute_force(documents, "wire")
    app.close()


def test_a_new_process_reads_the_copy_from_disk(tmp_path: Path, database_url: str | None) -> None:
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    directory = tmp_path / "facets"
    first = index_for(app.runtime.engine.dialect.name, FacetCache(directory))
    expected = brute_force(documents, "bank")
    assert facets_of(app, first, case_id, "bank") == expected
    path = directory / f"{case_id}.npz"
    with app.runtime.transaction() as connection:
        token = current_token(connection, case_id)
    stored = FacetColumns.load(path)
    assert stored is not None and stored.token == token and len(stored.ids) == len(documents)
    # A fresh cache (as in a new process) counts from the file alone, and a torn file
    # is rebuilt from the database.
    second = index_for(app.runtime.engine.dialect.name, FacetCache(directory))
    assert facets_of(app, second, case_id, "bank") == expected
    path.write_bytes(path.read_bytes()[:100])
    assert FacetColumns.load(path) is None
    third = index_for(app.runtime.engine.dialect.name, FacetCache(directory))
    assert facets_of(app, third, case_id, "bank") == expected
    assert FacetColumns.load(path) is not None  # written again
    app.close()


def test_documents_the_copy_lacks_are_counted_from_the_database(
    tmp_path: Path, database_url: str | None
) -> None:
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    index = index_for(app.runtime.engine.dialect.name, FacetCache())
    extra = renamed(make_documents(case_id, seed=9, count=25), "late")
    with app.runtime.transaction() as connection:
        old = index.facet_cache.columns(connection, case_id)
        index.add(connection, extra)
        ids = connection.exec_driver_sql("SELECT id FROM search_docs").scalars().all()
        counted = old.count(connection, np.asarray(ids, dtype=np.int64))
    everything = counts(documents + extra)
    senders = sorted(everything["sender"].items(), key=lambda pair: (-pair[1], pair[0]))
    assert counted["sender"] == senders[:10]
    assert {name: dict(pairs) for name, pairs in counted.items()} == {
        **everything,
        "sender": dict(senders[:10]),
    }
    app.close()


def test_the_copy_read_in_spans_equals_the_row_by_row_read(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast read (each column one string per span of ids) gives exactly the copy the
    rows give: over several spans, for a case that fills the table and for one that does
    not, with senders that are empty, missing, or hold the separator itself."""
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    app.cases.create(ADMIN, "D", "the other case", default_purpose="testing")
    with app.runtime.transaction() as connection:
        other = case_row(connection, "D").id
        big = make_documents(other, seed=11, count=300)
        for number, doc in enumerate(big):
            doc.item_id = f"other{number:04d}"
        index_for(app.runtime.engine.dialect.name).add(connection, big)
    tricky = ["", "unit\x1fseparator@example.org", None, "ünïcode@example.org"]
    for doc, sender in zip(documents, tricky, strict=False):
        doc.sender = sender
    with app.runtime.transaction() as connection:
        index = index_for(app.runtime.engine.dialect.name)
        index.remove_items(connection, [doc.item_id for doc in documents])
        index.add(connection, documents)
    monkeypatch.setattr(facets, "SPAN_IDS", 37)
    read_row_by_row: list[int] = []
    as_columns = facets._as_columns

    def counting(rows: list[tuple[object, ...]]) -> object:
        read_row_by_row.append(len(rows))
        return as_columns(rows)  # type: ignore[arg-type]

    monkeypatch.setattr(facets, "_as_columns", counting)
    fallbacks = {}
    for case, expected_documents in ((case_id, documents), (other, big)):
        with app.runtime.transaction() as connection:
            read_row_by_row.clear()
            fast = facets.read_columns(connection, case, "token")
            fallbacks[case] = len(read_row_by_row)
            rows = connection.execute(
                text(f"SELECT {facets._COLUMNS} FROM search_docs WHERE case_id = :case"),
                {"case": case},
            ).all()
        slow = FacetColumns.from_rows("token", rows)
        assert len(fast.ids) == len(expected_documents)
        for name in ("ids", "doc_type", "lang", "month", "sender", "kinds"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
        assert fast.vocabularies == slow.vocabularies
    # only the one span whose sender holds the separator was read row by row
    assert fallbacks == {case_id: 1, other: 0}
    index = index_for(app.runtime.engine.dialect.name, FacetCache())
    query = "wire OR bank OR gas"
    expected = brute_force(documents, query)
    node = parse(query)
    hits = [d for d in documents if reference.matches(node, d, lambda n: [])]
    # an empty sender is still a sender (counts() skips it)
    counted = Counter(d.sender for d in hits if d.sender is not None)
    senders = sorted(counted.items(), key=lambda pair: (-pair[1], pair[0]))
    expected["sender"] = dict(senders[:10])
    assert facets_of(app, index, case_id, query) == expected
    app.close()


def decoded(columns: FacetColumns) -> dict[str, list[object]]:
    """The copy's values by document, whatever codes its vocabularies gave them."""
    values: dict[str, list[object]] = {
        "ids": columns.ids.tolist(),
        "kinds": columns.kinds.tolist(),
    }
    for name, codes in (
        ("type", columns.doc_type),
        ("lang", columns.lang),
        ("month", columns.month),
        ("sender", columns.sender),
    ):
        vocabulary = columns.vocabularies[name].values
        values[name] = [None if code < 0 else vocabulary[code] for code in codes.tolist()]
    return values


def with_empty_senders(documents: list[SearchDocument], query: str) -> dict[str, dict[str, int]]:
    """brute_force with the empty sender counted: it is a sender (counts() skips it)."""
    expected = brute_force(documents, query)
    hits = [d for d in documents if reference.matches(parse(query), d, lambda n: [])]
    if any(d.sender == "" for d in hits):
        expected["sender"][""] = sum(d.sender == "" for d in hits)
    return expected


def test_a_changed_case_updates_its_copy_instead_of_reading_it_again(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After documents are added, removed and indexed again, the copy is updated from
    the rows it lacks (new senders, languages and months among them) and equals the
    copy read whole; it is read whole only when it lacks much of the case."""
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    directory = tmp_path / "facets"
    index = index_for(app.runtime.engine.dialect.name, FacetCache(directory))
    read_whole: list[str] = []
    read_columns = facets.read_columns

    def counting(connection: Connection, case: str, token: str) -> FacetColumns:
        read_whole.append(case)
        return read_columns(connection, case, token)

    monkeypatch.setattr(facets, "read_columns", counting)
    monkeypatch.setattr(facets, "UPDATE_SHARE", 0.5)  # this small case changes by a sixth
    assert facets_of(app, index, case_id, "wire") == brute_force(documents, "wire")
    assert read_whole == [case_id]  # the first copy
    extra = renamed(make_documents(case_id, seed=21, count=8), "added")
    extra[0].sender, extra[1].sender, extra[2].lang = "", None, "ukr"
    extra[3].date = "1987-06-05T00:00:00"
    again = documents[10:14]  # indexed again (as a re-processed item is)
    for doc in again:
        doc.lang, doc.sender = "ita", "again@example.org"
    gone = {doc.item_id for doc in documents[:5]}
    with app.runtime.transaction() as connection:
        index.add(connection, extra)
        index.remove_items(connection, sorted(gone))
        index.add(connection, again)
    documents = [d for d in documents if d.item_id not in gone] + extra
    for query in ["wire", "bank OR gas OR wire", "date:1980..1990"]:
        assert facets_of(app, index, case_id, query) == with_empty_senders(documents, query)
    assert read_whole == [case_id]  # updated, not read again
    with app.runtime.transaction() as connection:
        token = current_token(connection, case_id)
        whole = read_columns(connection, case_id, token)
    [updated] = [c for (_, case), c in index.facet_cache._copies.items() if case == case_id]
    assert updated.token == token
    assert decoded(updated) == decoded(whole)
    on_disk = FacetColumns.load(directory / f"{case_id}.npz")
    assert on_disk is not None and decoded(on_disk) == decoded(whole)
    # A copy lacking most of the case is read whole again.
    more = renamed(make_documents(case_id, seed=22, count=200), "many")
    with app.runtime.transaction() as connection:
        index.add(connection, more)
    documents += more
    assert facets_of(app, index, case_id, "wire") == with_empty_senders(documents, "wire")
    assert read_whole == [case_id, case_id]
    app.close()


def test_a_removed_document_id_is_never_given_again(
    tmp_path: Path, database_url: str | None
) -> None:
    app, case_id, _ = indexed(tmp_path / "main", database_url)
    index = index_for(app.runtime.engine.dialect.name)
    with app.runtime.transaction() as connection:
        newest = connection.execute(text("SELECT max(id) FROM search_docs")).scalar()
        newest_item = connection.execute(
            text("SELECT item_id FROM search_docs WHERE id = :id"), {"id": newest}
        ).scalar()
        index.remove_items(connection, [newest_item])
    with app.runtime.transaction() as connection:
        index.add(connection, renamed(make_documents(case_id, seed=23, count=1), "next"))
        given = connection.execute(
            text("SELECT id FROM search_docs WHERE item_id = 'next0000'")
        ).scalar()
    assert given == newest + 1
    app.close()


def test_postgresql_reads_facet_ids_alongside_in_the_same_snapshot(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the ids of the matches are read on a second connection while the
    page is read, in the search's snapshot: documents others commit meanwhile are not
    counted by a search that does not see them."""
    if database_url is None:
        pytest.skip("PostgreSQL only")
    from caselens.search.postgres import PostgresIndex

    app, case_id, documents = indexed(tmp_path / "main", database_url)
    index = index_for("postgresql", FacetCache())
    elsewhere: list[str] = []
    read_elsewhere = PostgresIndex._facet_ids_elsewhere

    def counting(self: PostgresIndex, engine: object, snapshot: str, *args: object) -> object:
        elsewhere.append(snapshot)
        return read_elsewhere(self, engine, snapshot, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(PostgresIndex, "_facet_ids_elsewhere", counting)
    expected = brute_force(documents, "wire")
    with app.runtime.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            before = index.search(connection, case_id, parse("wire"), RESOLVERS, facets=True)
            late = renamed(make_documents(case_id, seed=31, count=30), "late")
            with app.runtime.transaction() as writer:  # committed after the snapshot
                index.add(writer, late)
            after = index.search(connection, case_id, parse("wire"), RESOLVERS, facets=True)
    assert len(elsewhere) == 2
    for found in (before, after):
        assert {name: dict(pairs) for name, pairs in found.facets.items()} == expected
    assert facets_of(app, index, case_id, "wire") == brute_force(documents + late, "wire")
    app.close()


def test_counts_agree_whether_ids_are_dense_or_sparse() -> None:
    """Dense ids are counted through a lookup by id, sparse ones by binary search."""
    rng = np.random.default_rng(5)
    values = [
        (
            ["mail", "note", "chat"][rng.integers(3)],
            ["eng", "deu", ""][rng.integers(3)],
            ["2001-05", "2002-01", ""][rng.integers(3)],
            int(rng.integers(0, 1 << len(facets.KIND_BITS))) if rng.random() < 0.3 else 0,
            [None, "a@example.org", "b@example.org"][rng.integers(3)],
        )
        for _ in range(300)
    ]
    dense_ids = list(range(1, 301))
    sparse_ids = [1 + number * 1_000_003 for number in range(300)]
    dense = FacetColumns.from_rows("t", [(i, *v) for i, v in zip(dense_ids, values, strict=True)])
    sparse = FacetColumns.from_rows("t", [(i, *v) for i, v in zip(sparse_ids, values, strict=True)])
    chosen = np.sort(rng.choice(300, size=120, replace=False))
    expected: dict[str, Counter[str]] = {name: Counter() for name in ("type", "lang", "month")}
    kinds: Counter[str] = Counter()
    for row in chosen:
        doc_type, lang, month, bits, _sender = values[row]
        expected["type"][doc_type] += 1
        expected["lang"][lang] += 1
        if month:
            expected["month"][month] += 1
        kinds.update(kind for bit, kind in enumerate(facets.KIND_BITS) if bits >> bit & 1)
    found_dense = dense.count(None, np.array(dense_ids)[chosen])  # type: ignore[arg-type]
    found_sparse = sparse.count(None, np.array(sparse_ids)[chosen])  # type: ignore[arg-type]
    assert dense._position_of and not sparse._position_of  # each took its own way
    assert found_dense == found_sparse
    for name, counter in expected.items():
        assert dict(found_dense[name]) == dict(counter), name
    assert dict(found_dense["kind"]) == dict(kinds)
