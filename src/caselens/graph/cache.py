"""Built graphs kept per case while what they were built from is unchanged.

Building the graph of a large case reads every entity row; a query on the built graph
takes milliseconds. So a graph is kept (in the process, by the service that built it)
together with a mark of the store it was read from, and rebuilt when the mark moves:

- the head of the case's custody chain, which every ingest batch of the case extends
  (new items, and items processed again, whose older rows are then superseded);
- the highest row id of ``entities`` and of ``mentions`` over the installation, which
  also moves when rows are written without custody (imports, tools, tests). Row ids of
  any case count, so a write elsewhere costs a rebuild but never a stale answer;
- the highest row id of ``judgements``: judging a pair the same (or no longer the same)
  merges or splits nodes.

Each part is one index look-up, and the mark is read in the same transaction as
the graph it stands for.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Connection, func, select

from caselens.custody.chain import custody_chain
from caselens.db.schema import chain_heads, entities, judgements, mentions
from caselens.graph.model import CaseGraph

Mark = tuple[int, str, int, int, int]
Builder = Callable[[Connection, str], CaseGraph]


def store_mark(connection: Connection, case_id: str) -> Mark:
    """What a case's graph was built from, in numbers and a hash."""
    head = connection.execute(
        select(chain_heads.c.seq, chain_heads.c.hash).where(
            chain_heads.c.chain == custody_chain(case_id)
        )
    ).first()
    highest_entity = connection.execute(select(func.max(entities.c.id))).scalar()
    highest_mention = connection.execute(select(func.max(mentions.c.id))).scalar()
    highest_judgement = connection.execute(select(func.max(judgements.c.id))).scalar()
    return (
        int(head.seq) if head else -1,
        str(head.hash) if head else "",
        int(highest_entity or 0),
        int(highest_mention or 0),
        int(highest_judgement or 0),
    )


class GraphCache:
    """The last ``size`` graphs built, by case; safe to share between threads."""

    def __init__(self, build: Builder, size: int = 2) -> None:
        self._build = build
        self._size = max(1, size)
        self._graphs: OrderedDict[str, tuple[Mark, CaseGraph]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # graphs built so far (the rest were served from the cache)

    def graph(self, connection: Connection, case_id: str) -> CaseGraph:
        mark = store_mark(connection, case_id)
        with self._lock:
            kept = self._graphs.get(case_id)
            if kept is not None and kept[0] == mark:
                self._graphs.move_to_end(case_id)
                return kept[1]
            # The stale graph goes before the new one is built: two in memory at once
            # may not fit for a large case.
            self._graphs.pop(case_id, None)
        graph = self._build(connection, case_id)
        with self._lock:
            self.builds += 1
            self._graphs[case_id] = (mark, graph)
            while len(self._graphs) > self._size:
                self._graphs.popitem(last=False)
        return graph

    def kept(self, case_id: str) -> CaseGraph | None:
        """The graph kept for a case, without checking that it is still current."""
        with self._lock:
            found = self._graphs.get(case_id)
        return found[1] if found else None

    def forget(self, case_id: str | None = None) -> None:
        """Drop one case's graph, or all of them."""
        with self._lock:
            if case_id is None:
                self._graphs.clear()
            else:
                self._graphs.pop(case_id, None)
