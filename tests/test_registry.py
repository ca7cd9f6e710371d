"""Every format module is registered, and the registry picks the best-scoring ingestor."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import zipfile
from pathlib import Path

import pytest

import caselens.ingest.formats as formats
from caselens.ingest.registry import Ingestor, candidates
from caselens.ingest.source import Source
from caselens.ingest.tasks import Task
from caselens.store.hashing import digest_bytes


def test_every_ingestor_module_is_registered() -> None:
    found = set()
    for module_info in pkgutil.walk_packages(formats.__path__, f"{formats.__name__}."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Ingestor)
                and "name" in vars(cls)  # shared base classes name no format
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


def test_known_unsupported_formats_are_named_not_opened(tmp_path: Path) -> None:
    from caselens.ingest.formats.unsupported import KnownUnsupportedIngestor
    from caselens.ingest.harness import extract, source_for

    pages = tmp_path / "report.pages"
    with zipfile.ZipFile(pages, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00\x01binary")
    found = extract(KnownUnsupportedIngestor, pages, tmp_path / "w1")
    assert found.sink.warnings == [
        "Apple Pages document: format not supported yet; recorded with its hashes and metadata"
    ]
    assert found.child_paths == []
    pem = tmp_path / "server.key"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    source, _ = source_for(pem, tmp_path / "w2")
    assert KnownUnsupportedIngestor.score(source) == 0
    wordperfect = tmp_path / "letter.doc"
    wordperfect.write_bytes(b"\xffWPC" + bytes(60))
    source, _ = source_for(wordperfect, tmp_path / "w3")
    assert KnownUnsupportedIngestor.score(source) == 41


def test_sink_keeps_the_seconds_of_utc_times(tmp_path: Path) -> None:
    from caselens.ingest.limits import Limits
    from caselens.ingest.sink import Sink
    from caselens.ingest.worker import _document_entity

    sink = Sink("c" * 32, "i" * 32, Limits(), lambda stream: digest_bytes(stream.read()))
    sink.set_document("Pages", modifiedAt="2016-04-27T17:49:07Z", title="Meeting at 10:00Z")
    source, _ = source_for_bytes(tmp_path, b"%PDF-1.4")
    entity = _document_entity(sink, source, Task("i" * 32, "x.pdf"))
    assert entity["properties"]["modifiedAt"] == ["2016-04-27T17:49:07"]
    assert entity["properties"]["title"] == ["Meeting at 10:00Z"]


def source_for_bytes(tmp_path: Path, data: bytes) -> tuple[Source, object]:
    from caselens.ingest.harness import source_for

    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return source_for(path, tmp_path / "work")


def test_only_the_chosen_ingestors_run(tmp_path: Path, database_url: str | None) -> None:
    from caselens.errors import ConfigurationError
    from caselens.ingest.formats import active_ingestors
    from tests.conftest import ADMIN, new_installation

    assert [cls.name for cls in active_ingestors([], ["pdf"])] == ["pdf", "fallback"]
    with pytest.raises(ConfigurationError, match="unknown ingestor"):
        active_ingestors([], ["no-such-format"])

    app = new_installation(tmp_path / "home", database_url, ingestors=["text"], workers=1)
    source = tmp_path / "src"
    source.mkdir()
    (source / "note.txt").write_text("plain words")
    (source / "bundle.zip").write_bytes(_zip_bytes())
    app.ingest.ingest(ADMIN, "C", [str(source)])
    formats = {r["name"]: (r["format"], r["state"]) for r in app.items.list(ADMIN, "C")}
    assert formats == {"note.txt": ("text", "ingested"), "bundle.zip": ("fallback", "unsupported")}


def _zip_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.txt", "inside")
    return buffer.getvalue()
