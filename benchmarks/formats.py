"""Format throughput: PDF pages/s against pdftotext, e-mails/s against Python's own parser.

Runs ``formats_pdf.py`` (every corpus PDF that opens without a password; the ingestor
against ``pdftotext`` on the same files, 1 and 2 processes) and ``formats_mail.py`` (the
unpacked Enron maildir; the e-mail ingestor against ``email.message_from_binary_file`` with
``policy.default`` and ``get_body()``), each reporting medians of --repeat runs and the
ratio measured in the same run.

    python benchmarks/formats.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    for script in ("formats_pdf.py", "formats_mail.py"):
        print(f"== {script}", flush=True)
        subprocess.run(
            [sys.executable, str(HERE / script), "--repeat", str(options.repeat)], check=True
        )


if __name__ == "__main__":
    main()
