"""E-mails/s of the EML ingestor against Python's own parser doing the minimum correct work.

The reference reads each file with ``email.message_from_binary_file(f,
policy=email.policy.default)`` and takes the text of ``get_body(preferencelist=("plain",
"html"))``. The ingestor is called directly (no database, one process) on the same
files of the Enron maildir, unpacked into a temporary folder. Medians of --repeat runs
are reported with their ratio (target: the ingestor within 3x of the reference).

    python benchmarks/formats_mail.py [--repeat 3] [--limit 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import os
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

from caselens.ingest.formats.mail.eml import EmlIngestor, looks_like_rfc822
from caselens.ingest.limits import Limits
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
ENRON = CORPUS / "mail" / "enron-maildir-a.tar.gz"
NO_DIGESTS = Digests("", "", "", 0)


def message_files(root: Path, limit: int | None = None) -> list[Path]:
    """The e-mails under ``root`` (the maildir also holds two CSV files of labels)."""
    paths = sorted(Path(folder) / name for folder, _, names in os.walk(root) for name in names)
    files = []
    for path in paths:
        with path.open("rb") as handle:
            if looks_like_rfc822(handle.read(16384)):
                files.append(path)
    return files[:limit] if limit else files


def reference_seconds(files: list[Path]) -> float:
    """Python's parser with the modern policy, and the text of the preferred body."""
    started = time.perf_counter()
    for path in files:
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            # An unknown charset makes the reference give up on that body.
            with contextlib.suppress(LookupError, UnicodeError):
                body.get_content()
    return time.perf_counter() - started


def ingestor_seconds(files: list[Path]) -> float:
    """The EML ingestor on each file, children counted but not stored."""
    ingestor = EmlIngestor()
    limits = Limits()

    def discard_child(stream: Readable) -> Digests:
        while stream.read(1 << 16):
            pass
        return NO_DIGESTS

    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        source = Source(
            item_id="1" * 32,
            name=path.name,
            path=path,
            digests=Digests("", "", "", len(data)),
            mime_type="message/rfc822",
            head=data[:65536],
            content=data,
            limits=limits,
        )
        sink = Sink("0" * 32, source.item_id, limits, discard_child, len(data))
        ingestor.ingest(source, sink)
    return time.perf_counter() - started


def run(maildir: Path, repeat: int, limit: int | None = None) -> dict[str, object]:
    """Medians of ``repeat`` timed passes of both readers over the files under ``maildir``."""
    files = message_files(maildir, limit)
    reference, ours = [], []
    for _ in range(repeat):
        reference.append(reference_seconds(files))
        ours.append(ingestor_seconds(files))
    reference_rate = len(files) / statistics.median(reference)
    our_rate = len(files) / statistics.median(ours)
    return {
        "messages": len(files),
        "repeat": repeat,
        "reference_messages_per_second": round(reference_rate, 1),
        "ingestor_messages_per_second": round(our_rate, 1),
        "ratio": round(reference_rate / our_rate, 2),  # how many times slower than Python's
        "target_ratio": 3.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(ENRON) as archive:
            archive.extractall(folder, filter="data")
        result = run(Path(folder), arguments.repeat, arguments.limit)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
