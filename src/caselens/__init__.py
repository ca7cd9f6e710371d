"""caselens: an open investigation platform for police and financial-intelligence units."""

import os

# Arrow's allocator (mimalloc) asks for 2 MiB pages: on virtual machines that back memory
# lazily, touching fresh memory 4 KiB at a time made reading a 1.6M-row AMLworld file
# take twice as long. It must be set before pyarrow loads; setting it to 0 turns it off.
os.environ.setdefault("MIMALLOC_ALLOW_LARGE_OS_PAGES", "1")

__version__ = "0.1.0"
