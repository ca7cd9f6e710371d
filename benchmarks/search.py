"""Search speed at scale: build rate and query latency, against the raw engine.

Builds a search index of --docs documents (default 1,000,000) through the index's bulk
API (``SearchIndex.add``, one transaction per --batch documents): the 22,539 Enron mails
of ../shared/corpus/mail/enron-maildir-a.tar.gz and varied copies of them (other people,
lines in another order, other numbers and dates; see search_corpus.py). Documents are
built by --processes worker processes and inserted by the main process. Then it times
queries of each kind (selective and common words, phrases, prefixes, booleans, fields,
selectors, has:, date ranges, facets) and, in the same transaction, the raw engine running
the equivalent query directly:

- ours: ``parse(query)`` then ``SearchIndex.search(..., limit=20, facets=...)``: the
  query language, the compiler, the SQL through SQLAlchemy, the top 20 and the total
  (or the facets, which carry the total).
- raw: the same question as hand-written SQL run on the DB-API cursor, its text made
  before timing. Words: the engine expression our compiler produced (an FTS5 MATCH
  string / a tsquery literal) in ``SELECT rowid, bm25(search_fts_<case>, 10,3,3,1) ... ORDER
  ... LIMIT 20`` plus ``SELECT count(*) ... MATCH`` (PostgreSQL: ``tsv @@ q`` ordered by
  the RUM index's ``tsv <=> q`` where the database has one, else ranked by ``ts_rank``
  with the same weights, under the planner settings our search of words uses), no case
  filter and no join unless a filter needs the document row. Selectors:
  search_selectors joined to search_docs. Dates: the (case_id, date) index, newest first.
  Facets: the top 20, then count(*) and one GROUP BY per facet (type, language, month,
  top 10 senders, identifier kinds), each a statement of its own over the same match.

Latency is the median (p50) and 95th percentile (p95) of --runs runs per query after one
untimed warm-up, ours and raw alternating; a query whose runs exceed --budget seconds
stops early (at least 3 runs; 1 when the warm-up took half the budget; none, the
warm-up counting as the only run, when it took the whole budget, raw then runs 3). Every
query reports the share of documents it matches; "+ms" is ours minus raw at p50, the
fixed cost of our layer (parsing, compiling, SQLAlchemy) shows there on fast queries.

    python benchmarks/search.py --docs 20000                     # SQLite, quick
    python benchmarks/search.py --postgres postgresql+psycopg://postgres:PW@127.0.0.1/postgres
    python benchmarks/search.py --keep ... ; python benchmarks/search.py --reuse ...

The work directory (--work, default /tmp/search-bench) holds the SQLite installation and
a cache of the parsed mails; the PostgreSQL database is caselens_search_bench_<docs>.
Both are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import pickle
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from caselens.actor import Actor
from caselens.config import Settings
from caselens.extract.base import ExtractionContext
from caselens.extract.language import normalize_language
from caselens.search.compile import is_words
from caselens.search.document import SearchDocument
from caselens.search.engines import index_for
from caselens.search.facets import TOP_SENDERS, FacetCache, FacetColumns
from caselens.search.fts5 import WEIGHTS, fts_table
from caselens.search.index import Resolvers, SearchIndex
from caselens.search.postgres import RANK_WEIGHTS, RANKED_SETTINGS, WORDS_SETTINGS, has_rank_index
from caselens.search.query import And, Filter, Node, Not, parse
from caselens.search.selectors import selector_values
from caselens.services import Caselens
from caselens.services.access import case_row
from search_corpus import FIRST_NAMES, LAST_NAMES, Mail, Varier, read_mails

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = (ROOT / ".." / "shared" / "corpus" / "mail" / "enron-maildir-a.tar.gz").resolve()
ADMIN = Actor(user="admin", purpose="benchmark", os_user="admin")
CASE = "C"
CHUNK = 500  # documents per task of a worker process
AHEAD = 8  # tasks in flight: workers stay busy without piling documents up in memory
PAGE = 20


# -- the corpus and the build --------------------------------------------------------

_VARIER: Varier | None = None  # set in the parent before the workers fork


def _make_chunk(start: int, stop: int) -> list[SearchDocument]:
    assert _VARIER is not None
    return [_VARIER.document(number) for number in range(start, stop)]


def load_mails(work: Path) -> list[Mail]:
    cache = work / "mails.pickle"
    if cache.exists():
        with cache.open("rb") as handle:
            loaded: list[Mail] = pickle.load(handle)
            return loaded
    mails = read_mails(ARCHIVE)
    work.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as handle:
        pickle.dump(mails, handle)
    return mails


@dataclass
class Build:
    docs: int
    seconds: float  # wall time of the whole build
    add_seconds: float  # time inside SearchIndex.add (and its commits)
    analyze_seconds: float = 0.0
    reused: bool = False

    @property
    def rate(self) -> float:
        return self.docs / self.seconds


def build(app: Caselens, case_id: str, mails: list[Mail], args: argparse.Namespace) -> Build:
    global _VARIER
    _VARIER = Varier(mails, args.seed, case_id)
    index = index_for(app.runtime.engine.dialect.name)
    started = time.perf_counter()
    add_seconds = 0.0
    done = 0
    pending: list[SearchDocument] = []
    last_report = started

    def flush() -> None:
        nonlocal add_seconds, done, last_report
        began = time.perf_counter()
        with app.runtime.transaction() as connection:
            index.add(connection, pending)
        add_seconds += time.perf_counter() - began
        done += len(pending)
        pending.clear()
        now = time.perf_counter()
        if now - last_report > 30:
            last_report = now
            rate = done / (now - started)
            print(f"  {done:>9,} docs  {rate:,.0f} docs/s", flush=True)

    bounds = [(start, min(start + CHUNK, args.docs)) for start in range(0, args.docs, CHUNK)]
    context = multiprocessing.get_context("fork")
    with context.Pool(args.processes) as pool:
        queue: collections.deque[Any] = collections.deque()
        for bound in bounds:
            queue.append(pool.apply_async(_make_chunk, bound))
            if len(queue) >= AHEAD:
                pending.extend(queue.popleft().get())
                if len(pending) >= args.batch:
                    flush()
        while queue:
            pending.extend(queue.popleft().get())
            if len(pending) >= args.batch:
                flush()
    if pending:
        flush()
    seconds = time.perf_counter() - started
    result = Build(args.docs, seconds, add_seconds)
    if app.runtime.engine.dialect.name == "postgresql":
        # Statistics for the planner, as autovacuum would gather them soon after.
        began = time.perf_counter()
        with app.runtime.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("search_docs", "search_selectors", "search_kinds"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        result.analyze_seconds = time.perf_counter() - began
    return result


# -- queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    facets: bool = False


def choose_queries(mails: list[Mail], varier: Varier, seed: int) -> list[Query]:
    """Queries of each kind; single words picked by their share of the original mails."""
    frequency: collections.Counter[str] = collections.Counter()
    names: set[str] = set(FIRST_NAMES) | set(LAST_NAMES)
    for mail in mails:
        names |= mail.names
        frequency.update({token for line in mail.lines for token in line})
    total = len(mails)

    def pick(low: float, high: float, count: int, min_length: int) -> list[str]:
        found = sorted(
            word
            for word, n in frequency.items()
            if low <= n / total <= high
            and word.isalpha()
            and word.isascii()
            and len(word) >= min_length
            and word not in names
        )
        return random.Random(f"{seed}-{low}").sample(found, count)

    rare = pick(0.001, 0.005, 5, 6)
    common = pick(0.15, 0.5, 5, 4)
    phones, ibans = varier.phones, varier.ibans
    senders = collections.Counter(m.sender.rsplit("<", 1)[-1].rstrip(">") for m in mails)
    top_sender = next(s for s, _ in senders.most_common() if "@" in s)
    return [
        *(Query("selective", word) for word in rare),
        *(Query("common", word) for word in common),
        Query("phrase", '"natural gas"'),
        Query("phrase", '"let me know"'),
        Query("phrase", '"conference call"'),
        Query("phrase", '"risk management"'),
        Query("prefix", "deriv*"),
        Query("prefix", "calif*"),
        Query("boolean", "gas AND electricity"),
        Query("boolean", "california OR texas"),
        Query("boolean", "power NOT california"),
        Query("boolean", "(meeting OR conference) AND NOT tomorrow"),
        Query("boolean", f"{rare[0]} OR {rare[1]}"),
        Query("field", "subject:meeting"),
        Query("field", "subject:(gas OR power)"),
        Query("field", "from:patel"),
        Query("field", "to:kowalski"),
        Query("selector", f"phone:{phones[0]}"),
        Query("selector", f"phone:{phones[len(phones) // 2]}"),
        Query("selector", f"iban:{ibans[0]}"),
        Query("selector", f"iban:{ibans[-1]}"),
        Query("selector", f"email:{top_sender}"),
        Query("has", "has:iban"),
        Query("date", "date:2001-05-14"),
        Query("date", "date:2001-05"),
        Query("date", "date:1999..2003"),
        Query("date", f"{common[0]} date:2001"),
        Query("date", f"{rare[0]} date:1999..2001"),
        Query("facets", common[0], facets=True),
        Query("facets", common[1], facets=True),
        Query("facets", "enron", facets=True),
        Query("facets", rare[0], facets=True),
        Query("facets", "subject:meeting", facets=True),
        Query("facets", "date:2001", facets=True),
    ]


# -- the raw engine ------------------------------------------------------------------


def is_words_or_negated(node: Node) -> bool:
    return is_words(node.child if isinstance(node, Not) else node)


Statement = tuple[str, tuple[Any, ...]]


def raw_statements(
    dialect: str,
    node: Node,
    match: str | None,
    resolvers: Resolvers,
    case_id: str,
    facets: bool,
    rum: bool = False,
) -> list[Statement]:
    """Hand-written SQL asking the engine what ``node`` asks (see the module text)."""
    conjuncts = list(node.children) if isinstance(node, And) else [node]
    filters = [c for c in conjuncts if isinstance(c, Filter)]
    words = [c for c in conjuncts if not isinstance(c, Filter)]
    if (match is None) != (not words) or not all(map(is_words_or_negated, words)):
        raise ValueError("no raw form written for this shape")
    joins: list[str] = []
    join_values: list[Any] = []
    where: list[str] = []
    where_values: list[Any] = []
    for item in filters:
        if item.field == "date":
            if not match:
                where.append("d.case_id = ?")  # the (case_id, date) index
                where_values.append(case_id)
            where.append("d.date IS NOT NULL")
            for operator, bound in ((">=", item.low), ("<=", item.high)):
                if bound:
                    where.append(f"d.date {operator} ?")
                    where_values.append(bound)
        elif item.field == "has":
            joins.append("JOIN search_kinds h ON h.doc_id = d.id AND h.kind = ?")
            join_values.append(item.value.lower())
        elif item.field not in ("type", "lang"):
            ((kind, value),) = resolvers.selectors(item)
            joins.append(
                "JOIN search_selectors s ON s.doc_id = d.id AND s.kind = ? AND s.value = ?"
            )
            join_values.extend((kind, value))
        else:
            raise ValueError(f"no raw form written for {item.field}:")
    if match is None:
        source, score, order = "search_docs d", "NULL", "d.date DESC"
        values = [*join_values, *where_values]
    elif dialect == "sqlite":
        table = fts_table(case_id)  # each case has its own FTS5 table
        weights = ", ".join(str(w) for w in WEIGHTS)
        score = order = f"bm25({table}, {weights})"
        where.insert(0, f"{table} MATCH ?")
        values = [*join_values, match, *where_values]
        bare = not filters and not facets
        source = table if bare else f"{table} JOIN search_docs d ON d.id = {table}.rowid"
    elif rum:
        score = order = "d.tsv <=> x.q"  # the RUM index's own order, best first
        where.insert(0, "d.tsv @@ x.q")
        values = [match, *join_values, *where_values]
        source = "(SELECT CAST(? AS tsquery) AS q) x CROSS JOIN search_docs d"
    else:
        score = f"ts_rank('{RANK_WEIGHTS}', d.tsv, x.q)"
        order = f"{score} DESC"
        where.insert(0, "d.tsv @@ x.q")
        values = [match, *join_values, *where_values]
        source = "(SELECT CAST(? AS tsquery) AS q) x CROSS JOIN search_docs d"
    ident = "d.id" if " d" in source else "rowid"
    source = " ".join([source, *joins])
    condition = " AND ".join(where) or "TRUE"
    parameters = tuple(values)
    statements = [
        (
            f"SELECT {ident}, {score} FROM {source} WHERE {condition} "
            f"ORDER BY {order} LIMIT {PAGE}",
            parameters,
        ),
        (f"SELECT count(*) FROM {source} WHERE {condition}", parameters),
    ]
    if facets:
        groups = (
            "SELECT d.doc_type, count(*) FROM {s} WHERE {w} GROUP BY d.doc_type",
            "SELECT d.lang, count(*) FROM {s} WHERE {w} GROUP BY d.lang",
            "SELECT substr(d.date, 1, 7), count(*) FROM {s} WHERE {w} AND d.date IS NOT NULL "
            "GROUP BY substr(d.date, 1, 7)",
            "SELECT d.sender, count(*) AS n FROM {s} WHERE {w} AND d.sender IS NOT NULL "
            f"GROUP BY d.sender ORDER BY n DESC, d.sender LIMIT {TOP_SENDERS}",
            "SELECT k.kind, count(*) FROM {s} JOIN search_kinds k ON k.doc_id = d.id "
            "WHERE {w} GROUP BY k.kind",
        )
        statements.extend((g.format(s=source, w=condition), parameters) for g in groups)
    if dialect != "sqlite":
        # The planner settings our search of words uses (caselens.search.postgres), first.
        chosen = {**WORDS_SETTINGS, **(RANKED_SETTINGS if rum else {})} if match else {}
        if chosen:
            settings = ", ".join(f"set_config('{k}', '{v}', true)" for k, v in chosen.items())
            names = ", ".join(f"'{k}'" for k in chosen)
            restore = (
                f"SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name IN ({names})"
            )
            statements = [(f"SELECT {settings}", ()), *statements, (restore, ())]
        statements = [(sql.replace("?", "%s"), values) for sql, values in statements]
    return statements


# -- timing --------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    query: str
    facets: bool
    total: int
    raw_total: int | None
    share: float
    runs: int
    p50: float
    p95: float
    raw_p50: float | None
    raw_p95: float | None
    raw_sql: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.p50 / self.raw_p50 if self.raw_p50 else None


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def time_query(
    connection: Connection,
    index: SearchIndex,
    case_id: str,
    query: Query,
    resolvers: Resolvers,
    docs: int,
    args: argparse.Namespace,
) -> Row:
    dialect = connection.dialect.name

    def ours() -> int:
        matches = index.search(
            connection, case_id, parse(query.text), resolvers, limit=PAGE, facets=query.facets
        )
        return matches.total

    node = parse(query.text)
    compiled = index.compile(case_id, node, resolvers)
    try:
        rum = dialect == "postgresql" and has_rank_index(connection)
        statements = raw_statements(
            dialect, node, compiled.match, resolvers, case_id, query.facets, rum
        )
    except ValueError:
        statements = []
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    count_at = next(
        (n for n, (sql, _) in enumerate(statements) if sql.startswith("SELECT count(*)")), -1
    )

    def raw() -> int:
        total = 0
        for number, (sql, values) in enumerate(statements):
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            if number == count_at:
                total = int(rows[0][0])
        return total

    began = time.perf_counter()
    total = ours()  # warm-up, untimed
    warm_up = time.perf_counter() - began
    raw_total = raw() if statements else None
    mine: list[float] = []
    theirs: list[float] = []
    spent = 0.0
    # A query slower than half the budget is timed once (a few runs would take minutes);
    # one slower than the whole budget keeps its warm-up as its only time.
    least = 1 if warm_up > args.budget / 2 else 3
    if warm_up > args.budget:
        mine.append(warm_up)
        spent = warm_up
        while statements and len(theirs) < 3:
            began = time.perf_counter()
            raw()
            theirs.append(time.perf_counter() - began)
    while len(mine) < args.runs and (spent < args.budget or len(mine) < least):
        began = time.perf_counter()
        ours()
        middle = time.perf_counter()
        if statements:
            raw()
        ended = time.perf_counter()
        mine.append(middle - began)
        if statements:
            theirs.append(ended - middle)
        spent += ended - began
    return Row(
        kind=query.kind,
        query=query.text,
        facets=query.facets,
        total=total,
        raw_total=raw_total,
        share=total / docs,
        runs=len(mine),
        p50=statistics.median(mine) * 1000,
        p95=percentile(mine, 0.95) * 1000,
        raw_p50=statistics.median(theirs) * 1000 if theirs else None,
        raw_p95=percentile(theirs, 0.95) * 1000 if theirs else None,
        raw_sql=[sql for sql, _ in statements],
    )


def make_resolvers() -> Resolvers:
    context = ExtractionContext("US")

    def language(value: str) -> str:
        return normalize_language(value) or value

    return Resolvers(lambda node: selector_values(node, context), language)


# -- installations -------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    home: Path
    database_url: str | None
    drop: Callable[[], None]


def sqlite_backend(work: Path, docs: int) -> Backend:
    home = work / f"sqlite-{docs}"
    return Backend("sqlite", home, None, lambda: shutil.rmtree(home, ignore_errors=True))


def postgres_backend(work: Path, docs: int, server: str) -> Backend:
    name = f"caselens_search_bench_{docs}"
    home = work / f"postgres-{docs}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(home, ignore_errors=True)

    def create() -> None:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

    backend = Backend("postgresql", home, url, drop)
    backend.create = create  # type: ignore[attr-defined]
    return backend


def open_installation(
    backend: Backend, mails: list[Mail], args: argparse.Namespace
) -> tuple[Caselens, str, Build]:
    meta = backend.home / "build.json"
    if args.reuse and meta.exists():
        app = Caselens(Settings(home=backend.home, database_url=backend.database_url))
        with app.runtime.transaction() as connection:
            case_id = case_row(connection, CASE).id
            count = connection.execute(text("SELECT count(*) FROM search_docs")).scalar_one()
        stored = json.loads(meta.read_text())
        if count == args.docs and stored.get("seed") == args.seed:
            stored.pop("seed")
            return app, case_id, Build(**{**stored, "reused": True})
        app.close()
        print(f"  the kept index has {count} documents, not {args.docs}: building anew")
    backend.drop()
    if backend.database_url:
        backend.create()  # type: ignore[attr-defined]
    app = Caselens(Settings(home=backend.home, database_url=backend.database_url))
    app.users.init(ADMIN)
    app.cases.create(ADMIN, CASE, "search benchmark", default_purpose="benchmark")
    with app.runtime.transaction() as connection:
        case_id = case_row(connection, CASE).id
    result = build(app, case_id, mails, args)
    stored = {k: v for k, v in asdict(result).items() if k != "reused"}
    meta.write_text(json.dumps({**stored, "seed": args.seed}))
    return app, case_id, result


def index_size(app: Caselens, backend: Backend) -> list[tuple[str, int]]:
    if backend.name == "sqlite":
        path = Path(app.settings.resolved_database_url.removeprefix("sqlite:///"))
        sizes = [("database file", path.stat().st_size)]
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            sizes.append(("write-ahead log", wal.stat().st_size))
        return sizes
    with app.runtime.engine.connect() as connection:
        return [
            (name, int(connection.execute(text(f"SELECT {sql}")).scalar_one()))
            for name, sql in (
                ("search_docs (with tsv, TOAST, indexes)", "pg_total_relation_size('search_docs')"),
                (
                    "  of which the word index (RUM or GIN)",
                    "coalesce(pg_relation_size(to_regclass('ix_search_docs_rum')), "
                    "pg_relation_size(to_regclass('ix_search_docs_tsv')))",
                ),
                ("search_selectors", "pg_total_relation_size('search_selectors')"),
                ("search_kinds", "pg_total_relation_size('search_kinds')"),
            )
        ]


# -- output --------------------------------------------------------------------------


def machine(pg_version: str | None) -> list[str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    lines = [
        f"machine: {os.cpu_count()} cores, {model}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
    ]
    if pg_version:
        lines.append(pg_version)
    return lines


def target(row: Row) -> str:
    if row.share < 0.01:
        return "100" if row.p95 <= 100 else "100 MISSED"
    if row.share > 0.10:
        return "500" if row.p95 <= 500 else "500 MISSED"
    return "-"


def report(
    backend: str, docs: int, result: Build, rows: list[Row], sizes: list[tuple[str, int]]
) -> None:
    print(f"\n== {backend}: {docs:,} documents")
    origin = " (from the kept earlier build)" if result.reused else ""
    print(
        f"build{origin}: {result.seconds:,.0f} s wall, {result.rate:,.0f} docs/s; "
        f"{result.add_seconds:,.0f} s inside SearchIndex.add "
        f"({result.docs / result.add_seconds:,.0f} docs/s)"
        + (f"; VACUUM ANALYZE {result.analyze_seconds:.0f} s" if result.analyze_seconds else "")
    )
    for name, size in sizes:
        print(f"size: {name}: {size / 2**20:,.0f} MiB")
    head = (
        f"{'kind':<10} {'query':<44} {'matched':>8} {'total':>9} {'runs':>4} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'raw p50':>8} {'raw p95':>8} {'ratio':>6} {'+ms':>7}"
        "  target p95"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        label = row.query + (" [facets]" if row.facets else "")
        raw50 = f"{row.raw_p50:8.1f}" if row.raw_p50 is not None else f"{'-':>8}"
        raw95 = f"{row.raw_p95:8.1f}" if row.raw_p95 is not None else f"{'-':>8}"
        ratio = f"{row.ratio:6.2f}" if row.ratio is not None else f"{'-':>6}"
        extra = f"{row.p50 - row.raw_p50:7.1f}" if row.raw_p50 is not None else f"{'-':>7}"
        mark = "" if row.raw_total in (None, row.total) else f"  RAW COUNT {row.raw_total}"
        print(
            f"{row.kind:<10} {label[:44]:<44} {row.share:8.3%} {row.total:>9,} {row.runs:>4} "
            f"{row.p50:8.1f} {row.p95:8.1f} {raw50} {raw95} {ratio} {extra}  {target(row)}{mark}"
        )
    if not rows:
        print("no query of the kinds asked for (--only takes kinds: selective, facets, ...)")
        return
    ratios = [r.ratio for r in rows if r.ratio is not None]
    print(
        f"medians: p50 {statistics.median(r.p50 for r in rows):.1f} ms, "
        f"p95 {statistics.median(r.p95 for r in rows):.1f} ms, "
        f"ratio ours/raw (p50) {statistics.median(ratios) if ratios else float('nan'):.2f}"
    )
    for kind in dict.fromkeys(r.kind for r in rows):
        group = [r for r in rows if r.kind == kind]
        kind_ratios = [r.ratio for r in group if r.ratio is not None]
        print(
            f"  {kind:<10} p50 {statistics.median(r.p50 for r in group):8.1f} ms  "
            f"p95 {statistics.median(r.p95 for r in group):8.1f} ms  "
            f"ratio {statistics.median(kind_ratios) if kind_ratios else float('nan'):.2f}"
        )
    over = [r for r in rows if r.ratio is not None and r.ratio > 1.3]
    if over:
        print("ours over 1.3x raw:")
        for row in over:
            print(f"  {row.query}: {row.ratio:.2f}x ({row.p50:.1f} vs {row.raw_p50:.1f} ms)")


def run_backend(backend: Backend, mails: list[Mail], args: argparse.Namespace) -> dict[str, Any]:
    print(
        f"\n{backend.name}: {'reusing or ' if args.reuse else ''}building {args.docs:,} documents"
    )
    app, case_id, result = open_installation(backend, mails, args)
    try:
        # As the search service does: the case's facet copy kept on disk, which an
        # ingest brings up to date at its end. The bulk build here goes around the
        # ingest, so the copy is made (or read from disk) first and timed on its own.
        index = index_for(app.runtime.engine.dialect.name, FacetCache(app.settings.facet_cache_dir))
        stored = FacetColumns.load(app.settings.facet_cache_dir / f"{case_id}.npz")
        with app.runtime.engine.connect() as connection:
            started = time.perf_counter()
            token = index.facet_cache.columns(connection, case_id).token
            copy_seconds = time.perf_counter() - started
            connection.rollback()
        origin = (
            "built from the database"
            if stored is None
            else "read from disk"
            if stored.token == token
            else "brought up to date from disk"
        )
        print(f"  facet copy {origin} in {copy_seconds:.2f} s", flush=True)
        resolvers = make_resolvers()
        queries = choose_queries(mails, Varier(mails, args.seed, case_id), args.seed)
        if args.only:
            queries = [q for q in queries if q.kind in args.only.split(",")]
        rows = []
        with app.runtime.engine.connect() as connection:
            for query in queries:
                rows.append(
                    time_query(connection, index, case_id, query, resolvers, args.docs, args)
                )
                print(f"  {query.kind:<10} {query.text:<44} {rows[-1].p50:8.1f} ms", flush=True)
            connection.rollback()
        sizes = index_size(app, backend)
        report(backend.name, args.docs, result, rows, sizes)
        print(f"facet copy (before the queries): {origin} in {copy_seconds:.2f} s")
        if args.show_sql:
            for row in rows:
                print(f"\n{row.query}{' [facets]' if row.facets else ''}:")
                for sql in row.raw_sql:
                    print(f"  raw: {sql}")
        summary = {
            "backend": backend.name,
            "docs": args.docs,
            "build": {**asdict(result), "rate": result.rate},
            "sizes": dict(sizes),
            "facet_copy": {"seconds": copy_seconds, "origin": origin},
            "queries": [{**asdict(r), "ratio": r.ratio} for r in rows],
        }
    except BaseException:
        app.close()
        print(f"  failed: the index is kept in {backend.home} (use --reuse)", flush=True)
        raise
    app.close()
    if not args.keep:
        backend.drop()
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/search-bench"))
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument("--no-sqlite", action="store_true", help="run on PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes")
    parser.add_argument("--reuse", action="store_true", help="use a kept index of this size")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per query at most")
    parser.add_argument("--batch", type=int, default=2000, help="documents per transaction")
    parser.add_argument("--processes", type=int, default=2, help="document builders")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--only", metavar="KINDS", help="only these query kinds (a,b,...)")
    parser.add_argument("--show-sql", action="store_true", help="print the raw SQL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    mails = load_mails(args.work)
    backends = [] if args.no_sqlite else [sqlite_backend(args.work, args.docs)]
    pg_version = None
    if args.postgres:
        backends.append(postgres_backend(args.work, args.docs, args.postgres))
        engine = create_engine(args.postgres)
        with engine.connect() as connection:
            pg_version = str(connection.execute(text("SELECT version()")).scalar_one())
        engine.dispose()
    print("\n".join(machine(pg_version)))
    print(f"corpus: {len(mails):,} Enron mails; {args.docs:,} documents, seed {args.seed}")
    results = [run_backend(backend, mails, args) for backend in backends]
    print("\n" + "\n".join(machine(pg_version)))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(pg_version), "runs": results}, indent=1)
        )


if __name__ == "__main__":
    main()
