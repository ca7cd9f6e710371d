"""Search of a case's items, and the rebuild of its index from the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Row, select

from caselens.actor import Actor
from caselens.db.schema import (
    entities,
    item_texts,
    items,
    mentions,
    search_docs,
    transcript_segments,
)
from caselens.extract.base import ExtractionContext
from caselens.extract.language import normalize_language
from caselens.extract.regions import region_of
from caselens.identity import entity_id
from caselens.search.document import build_document
from caselens.search.engines import index_for
from caselens.search.facets import shared_cache
from caselens.search.index import MAX_PAGE_SIZE, Resolvers, SearchIndex
from caselens.search.query import Filter, Node, QueryError, parse
from caselens.search.selectors import selector_values
from caselens.search.snippets import body_phrases, find_snippet
from caselens.services.access import WRITER_ROLES, case_row, purpose_for, require_member
from caselens.services.base import Service

REBUILD_BATCH = 200


class SearchService(Service):
    @property
    def index(self) -> SearchIndex:
        cache = shared_cache(self.runtime.settings.facet_cache_dir)
        return index_for(self.runtime.engine.dialect.name, cache)

    def search(
        self,
        actor: Actor,
        reference: str,
        query: str,
        *,
        page: int = 1,
        size: int = 20,
        facets: bool = False,
        snippets: bool = True,
    ) -> dict[str, Any]:
        """One page of the items matching ``query``, best first, with facets if asked."""
        node = parse(query)  # a malformed query fails here, before anything is read
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise QueryError(f"pages start at 1 and hold 1 to {MAX_PAGE_SIZE} results")

        def body(connection: Connection, case: Row[Any]) -> dict[str, Any]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            resolvers = _resolvers(case)
            matches = self.index.search(
                connection,
                case.id,
                node,
                resolvers,
                offset=(page - 1) * size,
                limit=size,
                facets=facets,
            )
            results = _describe(connection, [hit.doc_id for hit in matches.hits])
            for hit, result in zip(matches.hits, results, strict=True):
                result["score"] = hit.score
                if snippets:
                    result["snippet"] = _snippet(connection, hit.item_id, node)
            self._audit(
                connection,
                actor,
                "search.query",
                case=case,
                purpose=purpose,
                details={"query": query, "page": page, "total": matches.total},
            )
            answer: dict[str, Any] = {
                "query": query,
                "total": matches.total,
                "page": page,
                "size": size,
                "results": results,
            }
            if facets:
                answer["facets"] = {
                    name: [{"value": value, "count": count} for value, count in pairs]
                    for name, pairs in matches.facets.items()
                }
            return answer

        return self._in_case(actor, "search.query", reference, body)

    def rebuild(self, actor: Actor, reference: str) -> dict[str, int]:
        """Drop the case's search index and build it again from the store."""

        def body(connection: Connection, case: Row[Any]) -> dict[str, int]:
            require_member(connection, actor, case, roles=WRITER_ROLES)
            purpose = purpose_for(actor, case)
            index = self.index
            removed = index.clear_case(connection, case.id)
            indexed = 0
            for batch in _stored_documents(connection, case.id):
                index.add(connection, batch)
                indexed += len(batch)
            index.refresh_statistics(connection)
            self._audit(
                connection,
                actor,
                "search.rebuild",
                case=case,
                purpose=purpose,
                details={"removed": removed, "indexed": indexed},
            )
            return {"removed": removed, "indexed": indexed}

        counts = self._in_case(actor, "search.rebuild", reference, body)
        # The facet copy anew, in a transaction of its own: one made by the transaction
        # that rebuilt the index is never kept (see caselens.search.facets).
        with self._transaction() as connection:
            self.index.facet_cache.columns(connection, case_row(connection, reference).id)
        return counts


def _resolvers(case: Row[Any]) -> Resolvers:
    context = ExtractionContext(region_of(case.jurisdiction))

    def selectors(node: Filter) -> list[tuple[str, str]]:
        return selector_values(node, context)

    return Resolvers(selectors, _language)


def _language(value: str) -> str:
    code = normalize_language(value)
    if code is None:
        raise QueryError(f'"{value}" is not a language: write en, eng or English')
    return code


def _describe(connection: Connection, doc_ids: list[int]) -> list[dict[str, Any]]:
    if not doc_ids:
        return []
    rows = connection.execute(
        select(
            search_docs.c.id,
            search_docs.c.item_id,
            search_docs.c.doc_type,
            search_docs.c.title,
            search_docs.c.sender,
            search_docs.c.date,
            search_docs.c.lang,
            items.c.path,
        )
        .outerjoin(items, items.c.id == search_docs.c.item_id)
        .where(search_docs.c.id.in_(doc_ids))
    ).all()
    by_id = {row.id: row for row in rows}
    return [
        {
            "item_id": by_id[doc_id].item_id,
            "path": by_id[doc_id].path,
            "type": by_id[doc_id].doc_type,
            "title": by_id[doc_id].title,
            "sender": by_id[doc_id].sender,
            "date": by_id[doc_id].date,
            "lang": by_id[doc_id].lang,
        }
        for doc_id in doc_ids
    ]


def _snippet(connection: Connection, item_id: str, node: Node) -> dict[str, Any] | None:
    phrases = body_phrases(node)
    if not phrases:
        return None
    pages = connection.execute(
        select(item_texts.c.page, item_texts.c.text)
        .where(item_texts.c.item_id == item_id, item_texts.c.superseded.is_(False))
        .order_by(item_texts.c.page)
    )
    found = find_snippet(((row.page, row.text) for row in pages), phrases)
    if found is None:
        return None
    snippet: dict[str, Any] = {
        "page": found.page,
        "text": found.text,
        "highlights": [list(span) for span in found.highlights],
        "pages": found.pages,
    }
    # In a recording, page n is the transcript's segment n: the hit's time is its start.
    segment = connection.execute(
        select(transcript_segments.c.start, transcript_segments.c.end)
        .join(items, items.c.id == transcript_segments.c.item_id)
        .where(
            transcript_segments.c.item_id == item_id,
            transcript_segments.c.generation == items.c.generation,
            transcript_segments.c.number == found.page,
        )
    ).first()
    if segment is not None:
        snippet["time"] = {"start": segment.start, "end": segment.end}
    return snippet


def _stored_documents(connection: Connection, case_id: str) -> Iterator[list[Any]]:
    """The case's search documents, rebuilt from what the store holds, in batches."""
    item_rows = connection.execute(
        select(items.c.id, items.c.generation)
        .where(items.c.case_id == case_id)
        .order_by(items.c.id)
    ).all()
    for start in range(0, len(item_rows), REBUILD_BATCH):
        chunk = item_rows[start : start + REBUILD_BATCH]
        ids = [row.id for row in chunk]
        wanted = {entity_id(case_id, "item", item_id): item_id for item_id in ids}
        own: dict[str, dict[str, Any]] = {}
        for row in connection.execute(
            select(entities.c.entity_id, entities.c.schema, entities.c.properties).where(
                entities.c.item_id.in_(ids),
                entities.c.entity_id.in_(list(wanted)),
                entities.c.superseded.is_(False),
            )
        ):
            own[wanted[row.entity_id]] = {"schema": row.schema, "properties": row.properties}
        pages: dict[str, dict[int, str]] = {}
        for row in connection.execute(
            select(item_texts.c.item_id, item_texts.c.page, item_texts.c.text).where(
                item_texts.c.item_id.in_(ids), item_texts.c.superseded.is_(False)
            )
        ):
            pages.setdefault(row.item_id, {})[row.page] = row.text
        found: dict[str, set[tuple[str, str]]] = {}
        for row in connection.execute(
            select(mentions.c.item_id, mentions.c.kind, mentions.c.value).where(
                mentions.c.item_id.in_(ids), mentions.c.superseded.is_(False)
            )
        ):
            found.setdefault(row.item_id, set()).add((row.kind, row.value))
        batch = [
            build_document(
                case_id,
                row.id,
                row.generation,
                own[row.id],
                pages.get(row.id, {}),
                found.get(row.id, set()),
            )
            for row in chunk
            if row.id in own
        ]
        if batch:
            yield batch
