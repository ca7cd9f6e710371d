"""Phone databases: SMS/s of the Android SMS reader on a large synthetic ``mmssms.db``.

Builds an ``mmssms.db`` with the Android 10 schema of the ``sms``, ``threads`` and
``canonical_addresses`` tables (--messages rows, default 200,000; 2,000 conversations of
UK mobile numbers, incoming and sent, bodies of 5-25 words; a fixed seed) in a temporary
folder, then times, as medians of --repeat runs:

- the floor: reading every row of ``sms`` with Python's ``sqlite3`` and nothing else;
- the ingestor called directly (PhoneDatabaseIngestor on a Source, as a worker calls it,
  no database): messages/s, and its time as a multiple of the floor's;
- ``caselens ingest`` of the file into a fresh home (one worker, the whole pipeline:
  hashing, custody, entities, text, identifier extraction, search index): messages/s.

    python benchmarks/phone.py [--repeat 3] [--messages 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from caselens.ingest.formats.phone.database import PhoneDatabaseIngestor
from caselens.ingest.limits import Limits
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests

ROOT = Path(__file__).resolve().parents[1]
CASELENS = [sys.executable, "-m", "caselens"]
START_MS = 1_600_000_000_000
# fmt: off
WORDS = (
    "meet", "at", "the", "station", "later", "today", "money", "transfer", "sent",
    "received", "call", "me", "back", "when", "you", "can", "the", "package", "is", "ready",
    "bring", "cash", "tomorrow", "morning", "ok", "thanks", "see", "you", "soon",
)
# fmt: on

SCHEMA = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0,
  status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT,
  body TEXT, service_center TEXT, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1,
  error_code INTEGER DEFAULT 0, creator TEXT, seen INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT);
"""


def build(path: Path, messages: int, threads: int = 2000) -> None:
    """A synthetic mmssms.db: ``messages`` SMS over ``threads`` conversations."""
    chance = random.Random(5)
    numbers = [f"07700 9{n:05d}" for n in chance.sample(range(100_000), threads)]
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(SCHEMA)
    db.executemany(
        "INSERT INTO canonical_addresses (_id, address) VALUES (?, ?)",
        [(i + 1, "+44" + n[1:].replace(" ", "")) for i, n in enumerate(numbers)],
    )
    db.executemany(
        "INSERT INTO threads (_id, recipient_ids) VALUES (?, ?)",
        [(i + 1, str(i + 1)) for i in range(threads)],
    )
    rows = []
    for ident in range(1, messages + 1):
        thread = chance.randrange(threads)
        box = chance.choice((1, 1, 2))
        body = " ".join(chance.choices(WORDS, k=chance.randint(5, 25)))
        date = START_MS + ident * 37_000
        rows.append((ident, thread + 1, numbers[thread], date, date - 3000, 1, 1, box, body))
    db.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, date_sent, read, seen, type, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()


def floor_seconds(path: Path) -> float:
    """Every row of ``sms`` read with Python's sqlite3, nothing made of it."""
    started = time.perf_counter()
    db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    for _ in db.execute("SELECT * FROM sms ORDER BY _id"):
        pass
    db.close()
    return time.perf_counter() - started


def ingestor_seconds(path: Path, scratch: Path) -> tuple[float, int]:
    """PhoneDatabaseIngestor called directly, as a worker calls it; messages it made."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    limits = Limits()
    source = Source(
        item_id="1" * 32,
        name=path.name,
        path=path,
        digests=Digests("", "", "", path.stat().st_size),
        mime_type="application/vnd.sqlite3",
        head=head,
        limits=limits,
        work_root=scratch,
        region="GB",
    )

    def no_children(stream: Readable) -> Digests:
        raise AssertionError("an SMS database has no child files")

    sink = Sink("0" * 32, source.item_id, limits, no_children, source.size)
    started = time.perf_counter()
    PhoneDatabaseIngestor().ingest(source, sink)
    seconds = time.perf_counter() - started
    return seconds, sum(1 for entity in sink.entities if entity.schema.name == "Message")


def cli_seconds(folder: Path, scratch: Path) -> dict[str, float]:
    """``caselens ingest`` of the folder into a fresh home, one worker."""
    home = Path(tempfile.mkdtemp(dir=scratch, prefix="home-"))
    env = {**os.environ, "CASELENS_HOME": str(home), "CASELENS_ITEM_TIMEOUT": "3600"}
    env.pop("CASELENS_DATABASE_URL", None)

    def run(*args: str) -> str:
        done = subprocess.run(
            [*CASELENS, *args], env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("init")
    run("case", "create", "BENCH", "--title", "phone benchmark", "--jurisdiction", "GB-ENG",
        "--default-purpose", "benchmark")  # fmt: skip
    started = time.perf_counter()
    summary = json.loads(run("ingest", "BENCH", str(folder), "--workers", "1", "--json"))
    wall = time.perf_counter() - started
    states = summary.get("states", {})
    if states != {"ingested": 1}:
        raise SystemExit(f"the benchmark database was not ingested: {summary}")
    return {"seconds": float(summary["seconds"]), "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--skip-cli", action="store_true", help="time the ingestor only")
    options = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="caselens-phone-") as folder:
        scratch = Path(folder)
        evidence = scratch / "exhibit"
        evidence.mkdir()
        database = evidence / "mmssms.db"
        started = time.perf_counter()
        build(database, options.messages)
        print(
            f"built {database.name}: {options.messages:,} SMS, "
            f"{database.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        floors = [floor_seconds(database) for _ in range(options.repeat)]
        direct = [ingestor_seconds(database, scratch / "work") for _ in range(options.repeat)]
        made = {count for _, count in direct}
        if made != {options.messages}:
            raise SystemExit(f"the ingestor made {made} messages, not {options.messages}")
        floor = statistics.median(floors)
        ours = statistics.median(seconds for seconds, _ in direct)
        result: dict[str, object] = {
            "messages": options.messages,
            "repeat": options.repeat,
            "floor_rows_per_s": round(options.messages / floor),
            "ingestor_messages_per_s": round(options.messages / ours),
            "ingestor_floor_ratio": round(ours / floor, 1),
            "ingestor_runs_s": [round(seconds, 2) for seconds, _ in direct],
        }
        print(
            f"floor (sqlite3 reads every row):  {result['floor_rows_per_s']:>9,} rows/s\n"
            f"PhoneDatabaseIngestor, direct:    {result['ingestor_messages_per_s']:>9,} "
            f"messages/s ({result['ingestor_floor_ratio']}x the floor's time; runs "
            f"{result['ingestor_runs_s']} s)",
            flush=True,
        )
        if not options.skip_cli:
            runs = [cli_seconds(evidence, scratch) for _ in range(options.repeat)]
            seconds = statistics.median(r["seconds"] for r in runs)
            result["cli_messages_per_s"] = round(options.messages / seconds)
            result["cli_runs_s"] = [round(r["seconds"], 1) for r in runs]
            result["cli_over_direct"] = round(seconds / ours, 1)
            print(
                f"caselens ingest (1 worker):       {result['cli_messages_per_s']:>9,} "
                f"messages/s ({result['cli_over_direct']}x the direct time; runs "
                f"{result['cli_runs_s']} s)"
            )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "phone.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
