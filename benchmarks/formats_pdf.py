"""PDF text extraction: pages/s of the PDF ingestor against ``pdftotext`` on the same PDFs.

Every PDF in ../shared/corpus/documents (both folders) that opens without a password is
read by the ingestor called directly, as a worker calls it but with no database and no
blob store (children are hashed, as the store would, and dropped), and by ``pdftotext -q
FILE -`` (poppler-utils) run once per file. With 1 process, files are read one after the
other; with 2, a ``multiprocessing`` pool of two hands each process the next file as it
gets free, as ``xargs -P 2`` does for two pdftotext at a time. Medians of --repeat runs;
the ratio is our time over pdftotext's (the target is at most 1.5). The machine's load
moves both figures: compare the ratio, measured in the same run.

    python benchmarks/formats_pdf.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pypdfium2.raw as pdfium  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile
from caselens.ingest.formats.pdf import PdfIngestor
from caselens.ingest.limits import Limits
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests, digest_stream

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
RESULTS = ROOT / "benchmarks" / "results" / "formats_pdf.json"
CASE_ID = "0" * 32


def corpus_pdfs() -> list[Path]:
    documents = CORPUS / "documents"
    return sorted(
        path for folder in ("pypdf", "tika") for path in (documents / folder).glob("*.pdf")
    )


def page_count(path: Path) -> int:
    """Pages of a PDF that opens without a password; 0 when it does not open."""
    document = pdfium.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
    if not document:
        return 0
    try:
        return int(pdfium.FPDF_GetPageCount(document))
    finally:
        pdfium.FPDF_CloseDocument(document)


def _store_child(stream: Readable) -> Digests:
    return digest_stream(stream)  # type: ignore[arg-type]


def ingest_file(path: Path) -> int:
    """Run the PDF ingestor on one file as a worker would; the characters of text it found."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    size = path.stat().st_size
    source = Source(
        item_id="1" * 32,
        name=path.name,
        path=path,
        digests=Digests("", "", "", size),
        mime_type="application/pdf",
        head=head,
        limits=Limits(),
    )
    sink = Sink(CASE_ID, source.item_id, source.limits, _store_child, size)
    try:
        PdfIngestor().ingest(source, sink)
    except (BrokenFile, EncryptedFile):
        return 0
    return sum(len(text) for text in sink.pages.values())


def ingest_files(paths: list[Path]) -> int:
    return sum(ingest_file(path) for path in paths)


def ingestor_seconds(pdfs: list[Path], pool: Any | None) -> float:
    started = time.perf_counter()
    if pool is None:
        ingest_files(pdfs)
    else:
        sum(pool.imap_unordered(ingest_file, pdfs, chunksize=1))
    return time.perf_counter() - started


def pdftotext_seconds(pdfs: list[Path], processes: int) -> float:
    names = b"".join(os.fsencode(path) + b"\0" for path in pdfs)
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-0", "-P", str(processes), "-I{}", "pdftotext", "-q", "{}", "-"],
        input=names,
        stdout=subprocess.DEVNULL,
        check=False,  # pdftotext exits non-zero on damaged files it still reads
    )
    return time.perf_counter() - started


def run(pdfs: list[Path], repeat: int) -> dict[str, Any]:
    """Pages/s of the ingestor and of pdftotext with 1 and 2 processes; medians of runs."""
    pages = {path: page_count(path) for path in pdfs}
    readable = [path for path in pdfs if pages[path] > 0]
    total_pages = sum(pages[path] for path in readable)
    rows = []
    with multiprocessing.Pool(2) as pool:
        sum(pool.imap_unordered(ingest_file, readable, chunksize=1))  # warm caches, imports
        ingest_files(readable)
        pdftotext_seconds(readable, 2)
        for processes in (1, 2):
            ours = [
                ingestor_seconds(readable, pool if processes == 2 else None) for _ in range(repeat)
            ]
            theirs = [pdftotext_seconds(readable, processes) for _ in range(repeat)]
            ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
            rows.append(
                {
                    "processes": processes,
                    "ingestor_pages_per_s": round(total_pages / ours_median, 1),
                    "pdftotext_pages_per_s": round(total_pages / theirs_median, 1),
                    "ratio": round(ours_median / theirs_median, 2),
                    "ingestor_runs_seconds": [round(s, 3) for s in ours],
                    "pdftotext_runs_seconds": [round(s, 3) for s in theirs],
                }
            )
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "pdfium": pdfium_version(),
        "pdftotext": pdftotext_version(),
        "files": len(readable),
        "skipped_files": len(pdfs) - len(readable),
        "pages": total_pages,
        "repeat": repeat,
        "results": rows,
    }


def pdfium_version() -> str:
    from pypdfium2.version import PDFIUM_INFO  # type: ignore[import-untyped]

    return str(PDFIUM_INFO)


def pdftotext_version() -> str:
    done = subprocess.run(["pdftotext", "-v"], capture_output=True, text=True, check=False)
    lines = (done.stderr + done.stdout).splitlines()  # poppler prints it on stderr
    return lines[0] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    if shutil.which("pdftotext") is None:
        sys.exit("pdftotext not found: install poppler-utils")
    report = run(corpus_pdfs(), options.repeat)
    print(
        f"{report['files']} PDFs, {report['pages']} pages ({report['skipped_files']} skipped: "
        f"they need a password or do not open); {report['machine']}"
    )
    for row in report["results"]:
        print(
            f"{row['processes']} process(es): ingestor {row['ingestor_pages_per_s']:8,.1f} "
            f"pages/s | pdftotext {row['pdftotext_pages_per_s']:8,.1f} pages/s | "
            f"{row['ratio']}x pdftotext's time (target <= 1.5)"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
