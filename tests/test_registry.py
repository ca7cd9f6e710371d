"""Every format module is registered, and the registry picks the best-scoring ingestor."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import caselens.ingest.formats as formats
from caselens.ingest.registry import Ingestor, candidates
from caselens.ingest.source import Source
from caselens.store.hashing import digest_bytes


def test_every_ingestor_module_is_registered() -> None:
    found = set()
    for module_info in pkgutil.iter_modules(formats.__path__):
        module = importlib.import_module(f"{formats.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Ingestor)
                and cls is not Ingestor
                and cls.__module__ == module.__name__
            ):
                found.add(cls)
    assert found == set(formats.INGESTORS)
    assert len({cls.name for cls in formats.INGESTORS}) == len(formats.INGESTORS)


def _source(name: str, mime: str, head: bytes = b"") -> Source:
    return Source("0" * 32, name, Path("/nonexistent"), digest_bytes(head), mime, head)


def test_best_score_wins_and_fallback_is_last() -> None:
    chosen = candidates(formats.INGESTORS, _source("a.txt", "text/plain"))
    assert [cls.name for cls in chosen] == ["text", "fallback"]
    chosen = candidates(formats.INGESTORS, _source("a.bin", "application/x-unknown"))
    assert [cls.name for cls in chosen] == ["fallback"]
    assert candidates(formats.INGESTORS, _source("a.xyz", "text/x-other"))[0].name == "text"
