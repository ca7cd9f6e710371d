"""Generated queries: FTS5, PostgreSQL and a brute-force reading agree on every result set.

On a PostgreSQL test run the same documents are indexed on SQLite as well, and the two
engines are compared with each other directly, besides each with the reference.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from caselens.extract.base import ExtractionContext
from caselens.search.document import SearchDocument, build_document
from caselens.search.engines import index_for
from caselens.search.index import Resolvers
from caselens.search.postgres import has_rank_index
from caselens.search.query import Filter, parse
from caselens.search.selectors import selector_values
from caselens.services import Caselens
from caselens.services.access import case_row
from tests.conftest import PG_URL, new_installation
from tests.search import reference

WORDS = [
    "wire",
    "transfer",
    "invoice",
    "payment",
    "account",
    "bank",
    "meeting",
    "tomorrow",
    "contract",
    "energy",
    "trading",
    "gas",
    "power",
    "deal",
    "price",
    "risk",
    "report",
    "board",
    "offer",
    "shares",
    "market",
    "london",
    "houston",
    "müller",
    "josé",
    "владимир",
    "путин",
    "café",
    "straße",
    "déjà",
    "vu",
    "2001",
    "9500",
    "q3",
    "fraud",
    "mule",
    "crypto",
    "wallet",
]
SENDERS = [
    "Alice Moreau <alice@blueharbor.test>",
    "Bob Müller <bob@example.com>",
    "Владимир Петров <vp@example.ru>",
    "Carol King <carol@enron.test>",
]
SELECTOR_POOL = [
    ("phone", "+442079460958"),
    ("phone", "+17135551234"),
    ("email", "alice@blueharbor.test"),
    ("iban", "GB29NWBK60161331926819"),
    ("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
]
SCHEMAS = ["Email", "PlainText", "Pages", "HyperText"]
QUERIES = 260


def make_documents(case_id: str, seed: int = 7, count: int = 90) -> list[SearchDocument]:
    rng = random.Random(seed)
    documents = []
    for number in range(count):
        schema = rng.choice(SCHEMAS)
        properties: dict[str, list[str]] = {
            "fileName": [f"file-{number}.txt"],
            "title": [" ".join(rng.choices(WORDS, k=rng.randint(1, 4)))],
        }
        if schema == "Email":
            properties["from"] = [rng.choice(SENDERS)]
            properties["to"] = rng.sample(SENDERS, k=2)
        if rng.random() < 0.8:
            year = rng.randint(1999, 2003)
            properties["date"] = [
                f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00"
            ]
        if rng.random() < 0.7:
            properties["language"] = [rng.choice(["eng", "deu"])]
        weights = [1.0 / (rank + 1) for rank in range(len(WORDS))]  # Zipf: some words common
        pages = {
            page: " ".join(rng.choices(WORDS, weights=weights, k=rng.randint(5, 40)))
            for page in range(1, rng.randint(1, 3) + 1)
        }
        found = set(rng.sample(SELECTOR_POOL, k=rng.randint(0, 2)))
        entity = {"schema": schema, "properties": properties}
        documents.append(build_document(case_id, f"item{number:04d}", 0, entity, pages, found))
    return documents


def make_queries(documents: list[SearchDocument], seed: int = 11) -> list[str]:
    rng = random.Random(seed)

    def leaf() -> str:
        roll = rng.random()
        if roll < 0.35:
            return rng.choice(WORDS)
        if roll < 0.45:
            word = rng.choice([w for w in WORDS if len(w) >= 3])
            return word[: rng.randint(2, 3)] + "*"
        if roll < 0.60:
            body = rng.choice(documents).columns["body"].split()
            start = rng.randrange(max(1, len(body) - 2))
            return '"' + " ".join(body[start : start + rng.randint(2, 3)]) + '"'
        if roll < 0.72:
            field = rng.choice(["from", "to", "subject", "body"])
            value = rng.choice(["alice", "müller", "владимир", "carol", rng.choice(WORDS)])
            if rng.random() < 0.3:
                value = value[:3] + "*" if len(value) >= 3 else value
            elif rng.random() < 0.2:
                value = f'"{value} {rng.choice(WORDS)}"'
            return f"{field}:{value}"
        if roll < 0.80:
            return rng.choice(["type:email", "type:pdf", "type:text", "lang:eng", "lang:deu"])
        if roll < 0.88:
            low = rng.randint(1999, 2003)
            return rng.choice(
                [f"date:{low}", f"date:{low}-0{rng.randint(1, 9)}..{low + 1}", f"date:>={low}"]
            )
        if roll < 0.94:
            return rng.choice(["has:phone", "has:iban", "has:wallet", "has:email"])
        return rng.choice(
            ["phone:+442079460958", 'phone:"+1 713 555 1234"', "iban:GB29NWBK60161331926819"]
        )

    def expression(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            return leaf()
        operator = rng.choice(["AND", "OR", " ", "NOT", "-"])
        left, right = expression(depth - 1), expression(depth - 1)
        if operator == "NOT":
            return f"{left} NOT {right}" if rng.random() < 0.5 else f"NOT {right}"
        if operator == "-":
            return f"{left} -{right}" if not right.startswith(("-", "(")) else f"{left} NOT {right}"
        joined = f"{left} {operator} {right}" if operator.strip() else f"{left} {right}"
        return f"({joined})" if rng.random() < 0.5 else joined

    return [expression(rng.randint(1, 3)) for _ in range(QUERIES)]


def indexed(home: Path, database_url: str | None) -> tuple[Caselens, str, list[SearchDocument]]:
    app = new_installation(home, database_url)
    with app.runtime.transaction() as connection:
        case_id = case_row(connection, "C").id
        documents = make_documents(case_id)
        index_for(app.runtime.engine.dialect.name).add(connection, documents)
    return app, case_id, documents


def result_set(app: Caselens, case_id: str, query: str, resolvers: Resolvers) -> set[str]:
    index = index_for(app.runtime.engine.dialect.name)
    with app.runtime.transaction() as connection:
        found = index.search(connection, case_id, parse(query), resolvers, limit=100)
    assert found.total == len(found.hits) <= 100
    return {hit.item_id for hit in found.hits}


def test_engines_agree_with_the_reference_on_generated_queries(
    tmp_path: Path, database_url: str | None
) -> None:
    context = ExtractionContext("GB")

    def selectors(node: Filter) -> list[tuple[str, str]]:
        return selector_values(node, context)

    resolvers = Resolvers(selectors, lambda code: code)
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    others: list[tuple[Caselens, str]] = []
    if database_url is not None:  # PostgreSQL run: SQLite answers alongside
        sqlite_app, sqlite_case, _ = indexed(tmp_path / "sqlite", None)
        others.append((sqlite_app, sqlite_case))
    queries = make_queries(documents)
    matched_some = 0
    for query in queries:
        node = parse(query)
        expected = {d.item_id for d in documents if reference.matches(node, d, selectors)}
        got = result_set(app, case_id, query, resolvers)
        assert got == expected, query
        for other_app, other_case in others:
            assert result_set(other_app, other_case, query, resolvers) == got, query
        matched_some += 0 < len(expected) < len(documents)
    # The generated queries are varied: most of them split the documents.
    assert len(queries) >= 200 and matched_some >= len(queries) // 2
    app.close()
    for other_app, _ in others:
        other_app.close()


def test_facets_count_every_match_not_the_page(tmp_path: Path, database_url: str | None) -> None:
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    resolvers = Resolvers(lambda node: [], lambda code: code)
    index = index_for(app.runtime.engine.dialect.name)
    for query in ["wire", "bank OR gas", "NOT fraud", "date:2000..2002", "type:email"]:
        node = parse(query)
        hits = [d for d in documents if reference.matches(node, d, lambda n: [])]
        with app.runtime.transaction() as connection:
            found = index.search(connection, case_id, node, resolvers, limit=5, facets=True)
        assert found.total == len(hits) and len(found.hits) == min(5, len(hits))
        assert dict(found.facets["type"]) == _count(d.doc_type for d in hits)
        assert dict(found.facets["lang"]) == _count(d.lang or "" for d in hits)
        assert dict(found.facets["month"]) == _count(d.date[:7] for d in hits if d.date)
        senders = _count(d.sender for d in hits if d.sender)
        assert dict(found.facets["sender"]) == senders  # fewer than ten senders: all shown
        kinds = _count(kind for d in hits for kind in {k for k, _ in d.selectors})
        assert dict(found.facets["kind"]) == kinds
    app.close()


def test_paging_walks_every_match_once_in_rank_order(
    tmp_path: Path, database_url: str | None
) -> None:
    app, case_id, _documents = indexed(tmp_path / "main", database_url)
    resolvers = Resolvers(lambda node: [], lambda code: code)
    index = index_for(app.runtime.engine.dialect.name)
    node = parse("bank OR wire OR gas")
    with app.runtime.transaction() as connection:
        whole = index.search(connection, case_id, node, resolvers, limit=100)
        pages = [
            index.search(connection, case_id, node, resolvers, offset=offset, limit=7)
            for offset in range(0, whole.total, 7)
        ]
    walked = [hit.item_id for page in pages for hit in page.hits]
    assert walked == [hit.item_id for hit in whole.hits]
    assert len(set(walked)) == whole.total > 20
    scores = [hit.score for hit in whole.hits]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    app.close()


def _count(values: Any) -> dict[str, int]:
    counted: dict[str, int] = {}
    for value in values:
        counted[value] = counted.get(value, 0) + 1
    return counted


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's two ways of ranking")
def test_postgres_finds_the_same_without_its_rum_index(
    tmp_path: Path, database_url: str | None
) -> None:
    context = ExtractionContext("GB")
    resolvers = Resolvers(lambda node: selector_values(node, context), lambda code: code)
    app, case_id, documents = indexed(tmp_path / "main", database_url)
    with app.runtime.transaction() as connection:
        available = connection.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        ).first()
        # Where the extension is installed, the migration ranks from it (CI installs it).
        assert has_rank_index(connection) == (available is not None)
    queries = make_queries(documents)[:80]
    first = [result_set(app, case_id, query, resolvers) for query in queries]
    with app.runtime.transaction() as connection:
        connection.execute(text("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)"))
        connection.execute(text("DROP INDEX IF EXISTS ix_search_docs_rum"))
        assert not has_rank_index(connection)
    assert [result_set(app, case_id, query, resolvers) for query in queries] == first
    app.close()
