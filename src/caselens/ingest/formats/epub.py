"""EPUB 2/3: a zip whose ``META-INF/container.xml`` names the OPF package document.

Each document of the spine (reading order) is one page, its text read as HTML. Metadata from
the OPF: dc:title → title, dc:creator → author, dc:language → language, dc:publisher →
publisher, dc:description → summary, dc:subject → keywords, dc:date → publishedAt (EPUB 2
``opf:event`` "creation"/"modification" → authoredAt/modifiedAt), ``dcterms:modified`` →
modifiedAt. Images, fonts and styles are not children: they hold no evidence text. DRM- or
otherwise encrypted content (``META-INF/encryption.xml``, other than font obfuscation) is
reported as EncryptedFile.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from typing import ClassVar

from caselens.ingest.errors import BrokenFile, EncryptedFile, NotMyFormat
from caselens.ingest.formats.officemeta import (
    MAX_TREE_PART_BYTES,
    ElementType,
    attribute,
    element_text,
    iso_date,
    local,
    member_names,
    open_zip,
    parse_xml,
    read_member,
)
from caselens.ingest.formats.ooxml import container_score
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import declared_html_charset, decode_text
from caselens.text.html import html_to_text

_MIMETYPE_MEMBER = b"mimetypeapplication/epub+zip"
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]{1,40})["']""")
_FONT_OBFUSCATION = ("http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC")
_DOCUMENT_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml", "text/xml"})
_METADATA = {
    "title": "title",
    "creator": "author",
    "language": "language",
    "publisher": "publisher",
    "description": "summary",
    "subject": "keywords",
}
_DATE_EVENTS = {"creation": "authoredAt", "modification": "modifiedAt"}


class EpubIngestor(Ingestor):
    name = "epub"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/epub+zip"})
    extensions: ClassVar[frozenset[str]] = frozenset({".epub"})
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        return container_score(cls, source, lambda head: head[30:58] == _MIMETYPE_MEMBER)

    def ingest(self, source: Source, sink: Sink) -> None:
        if not source.head.startswith(b"PK\x03\x04"):
            raise BrokenFile(f"not a zip container, as EPUB must be (starts {source.head[:8]!r})")
        with source.open() as handle, open_zip(handle, "EPUB") as archive:
            members = member_names(archive)

            def xml(name: str) -> ElementType | None:
                info = members.get(name)
                if info is None:
                    return None
                return parse_xml(read_member(archive, info, MAX_TREE_PART_BYTES), name, sink)

            container = xml("META-INF/container.xml")
            if container is None:
                raise NotMyFormat("zip without META-INF/container.xml")
            rootfile = next((el for el in container.iter() if local(el.tag) == "rootfile"), None)
            opf_name = attribute(rootfile, "full-path") if rootfile is not None else None
            opf = xml(opf_name) if opf_name else None
            if opf is None or opf_name is None:
                raise BrokenFile("EPUB container names no readable package (OPF) document")
            sink.set_document("Pages")
            _metadata(opf, sink)
            spine = _spine(opf, posixpath.dirname(opf_name))
            encrypted = _encrypted_paths(xml("META-INF/encryption.xml"))
            if any(path in encrypted for path in spine):
                raise EncryptedFile("EPUB content is encrypted (DRM)")
            page = 0
            for path in spine:
                if sink.text_full:
                    break
                info = members.get(path)
                if info is None:
                    sink.warn(f"spine document {path} is missing")
                    continue
                try:
                    data = read_member(archive, info, MAX_TREE_PART_BYTES)
                except BrokenFile as err:
                    sink.warn(str(err))
                    continue
                page += 1
                sink.add_text(_html_text(data, path), page=page)


def _html_text(data: bytes, path: str) -> str:
    match = _XML_ENCODING.match(data)
    declared = match.group(1).decode("ascii") if match else declared_html_charset(data)
    try:
        text, _title = html_to_text(decode_text(data, declared).text)
    except (AssertionError, ValueError) as err:  # html.parser's own failures
        raise BrokenFile(f"spine document {path} could not be parsed: {err}") from err
    return text


def _metadata(opf: ElementType, sink: Sink) -> None:
    metadata = next((el for el in opf if local(el.tag) == "metadata"), None)
    if metadata is None:
        return
    for element in metadata.iter():
        name = local(element.tag)
        value = element_text(element)
        if not value:
            continue
        if name in _METADATA:
            sink.add_property(_METADATA[name], value)
        elif name == "date":
            event = attribute(element, "event") or ""
            sink.add_property(_DATE_EVENTS.get(event, "publishedAt"), iso_date(value))
        elif name == "meta" and element.get("property") == "dcterms:modified":
            sink.add_property("modifiedAt", iso_date(value))


def _spine(opf: ElementType, folder: str) -> list[str]:
    """Member names of the spine's documents, in reading order."""
    manifest: dict[str, tuple[str, str]] = {}
    for item in opf.iter():
        if local(item.tag) == "item" and item.get("id") and item.get("href"):
            href = urllib.parse.unquote((item.get("href") or "").split("#")[0])
            path = posixpath.normpath(posixpath.join(folder, href)) if folder else href
            manifest[item.get("id") or ""] = (path, item.get("media-type") or "")
    paths: list[str] = []
    for itemref in opf.iter():
        if local(itemref.tag) != "itemref":
            continue
        path, media_type = manifest.get(itemref.get("idref") or "", ("", ""))
        if path and path not in paths and (not media_type or media_type in _DOCUMENT_TYPES):
            paths.append(path)
    return paths


def _encrypted_paths(encryption: ElementType | None) -> set[str]:
    """Members encrypted for real (font obfuscation is not: the text stays readable)."""
    if encryption is None:
        return set()
    paths: set[str] = set()
    for data in encryption.iter():
        if local(data.tag) != "EncryptedData":
            continue
        method = next((el for el in data.iter() if local(el.tag) == "EncryptionMethod"), None)
        algorithm = method.get("Algorithm") if method is not None else ""
        if algorithm in _FONT_OBFUSCATION:
            continue
        for reference in data.iter():
            if local(reference.tag) == "CipherReference" and reference.get("URI"):
                paths.add(urllib.parse.unquote(reference.get("URI") or ""))
    return paths
