"""Image ingestor and thumbnails: pictures built here with Pillow's EXIF writer, hostile
headers written byte by byte, and the shared corpus of camera and phone photos."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageDraw, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import select

from caselens.db.schema import entities, items
from caselens.hashsets.pdq import distance
from caselens.ingest.errors import BrokenFile, LimitReached, UnsupportedVersion
from caselens.ingest.formats.image import ImageIngestor
from caselens.ingest.formats.image_decode import MAX_PIXELS, enable_heif
from caselens.ingest.formats.image_gps import read_gps
from caselens.ingest.formats.image_pdq import pdq_hash
from caselens.ingest.harness import CASE_ID, Extraction, source_for
from caselens.ingest.sink import Sink
from caselens.media.thumbnails import ThumbnailError, make_thumbnail
from caselens.services.ingest import Acquisition
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests, digest_bytes
from tests.conftest import ADMIN, CORPUS, needs_corpus, new_installation

Base, GPS, IFD = ExifTags.Base, ExifTags.GPS, ExifTags.IFD
SAMPLES = CORPUS / "images" / "exif-samples"
PLUGIN = "caselens.ingest.formats.image:ImageIngestor"


# --- building pictures --------------------------------------------------------------------


def scene(size: tuple[int, int] = (640, 480), seed: int = 0) -> Image.Image:
    """A picture with structure (shapes on a gradient) that PDQ can tell from others."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    width, height = size
    for index in range(12):
        x = (index * 97 + seed * 211) % width
        y = (index * 61 + seed * 137) % height
        colour = ((index * 40 + seed * 90) % 256, (index * 90) % 256, (seed * 70) % 256)
        draw.rectangle((x, y, x + width // 5, y + height // 6), fill=colour)
    draw.ellipse((width // 3, height // 3, width // 2, height // 2), fill=(250, 250, 250))
    return image


def rationals(*values: tuple[int, int]) -> tuple[IFDRational, ...]:
    return tuple(IFDRational(numerator, denominator) for numerator, denominator in values)


def camera_exif(gps: dict[int, Any] | None = None, **times: str) -> Image.Exif:
    exif = Image.Exif()
    exif[Base.Make] = "Canon"
    exif[Base.Model] = "Canon EOS 5D Mark IV"
    exif[Base.Software] = "Firmware 1.4.2\x00\x00"
    exif[Base.Artist] = "  J. Doe  "
    exif[Base.Orientation] = 1
    sub = exif.get_ifd(IFD.Exif)
    sub[Base.BodySerialNumber] = "032021001234"
    sub[Base.LensModel] = "EF24-105mm f/4L IS II USM"
    sub[Base.DateTimeOriginal] = times.get("original", "2023:06:14 18:30:05")
    if "offset" in times:
        sub[Base.OffsetTimeOriginal] = times["offset"]
    if "subsec" in times:
        sub[Base.SubsecTimeOriginal] = times["subsec"]
    if gps:
        exif.get_ifd(IFD.GPSInfo).update(gps)
    return exif


LONDON_EYE: dict[int, Any] = {
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: rationals((51, 1), (30, 1), (1908, 100)),  # 51° 30' 19.08"
    GPS.GPSLongitudeRef: "W",
    GPS.GPSLongitude: rationals((0, 1), (7, 1), (1728, 100)),  # 0° 7' 17.28"
    GPS.GPSAltitudeRef: b"\x01",  # below sea level
    GPS.GPSAltitude: IFDRational(125, 10),
    GPS.GPSDateStamp: "2023:06:14",
    GPS.GPSTimeStamp: rationals((16, 1), (30, 1), (4, 1)),
    GPS.GPSMapDatum: "WGS-84",
}


def write(path: Path, image: Image.Image, exif: Image.Exif | None = None, **options: Any) -> Path:
    if exif is not None:
        options["exif"] = exif
    image.save(path, **options)
    return path


def run(
    path: Path, work: Path, zone: str | None = None, languages: tuple[str, ...] = ()
) -> Extraction:
    """The ingestor on one file; OCR off unless languages are given."""
    source, store = source_for(path, work)
    source = dataclasses.replace(source, timezone=zone, ocr_languages=languages)

    def store_child(stream: Readable) -> Digests:
        return store.put_stream(stream, head_size=0, keep_limit=0).digests

    sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
    ImageIngestor().ingest(source, sink)
    return Extraction(sink, source, store, dict(sink.document_properties))


# --- EXIF, GPS and times ------------------------------------------------------------------


def test_a_camera_photo_in_full(tmp_path: Path) -> None:
    exif = camera_exif(LONDON_EYE, offset="+01:00", subsec="25")
    path = write(tmp_path / "photo.jpg", scene(), exif, quality=92)
    found = run(path, tmp_path / "work", zone="Asia/Tokyo")  # the offset wins over the zone
    context = found.sink.document_context
    assert found.sink.document_schema == "Image"
    assert found.properties == {
        "authoredAt": ["2023-06-14T17:30:05"],
        "generator": ["Firmware 1.4.2"],
        "author": ["J. Doe"],
    }
    assert context["exif"] == {
        "make": "Canon",
        "model": "Canon EOS 5D Mark IV",
        "serial": "032021001234",
        "lens": "EF24-105mm f/4L IS II USM",
        "software": "Firmware 1.4.2",
        "artist": "J. Doe",
        "orientation": 1,
    }
    assert context["captured"] == {
        "utc": "2023-06-14T17:30:05",
        "local": "2023:06:14 18:30:05",
        "tag": "DateTimeOriginal",
        "time_zone": "+01:00",
    }
    assert context["gps"] == {
        "latitude": pytest.approx(51.5053, abs=1e-7),
        "longitude": pytest.approx(-0.1214667, abs=1e-7),
        "altitude": -12.5,
        "time": "2023-06-14T16:30:04",
        "time_zone": "UTC",
        "datum": "WGS-84",
    }
    assert context["image"] == {
        "format": "JPEG", "mode": "RGB", "width": 640, "height": 480, "frames": 1,
        "complete": True,
    }  # fmt: skip
    assert len(context["pdq"]["hash"]) == 64 and int(context["pdq"]["hash"], 16)
    assert context["pdq"]["quality"] >= 50
    assert found.text == (
        "Picture JPEG 640×480; camera make Canon; camera model Canon EOS 5D Mark IV; "
        "camera serial 032021001234; lens EF24-105mm f/4L IS II USM; software Firmware 1.4.2; "
        "artist J. Doe; taken 2023:06:14 18:30:05 (+01:00; 2023-06-14T17:30:05 UTC); "
        "GPS 51.505300, -0.121467, altitude -12.5 m"
    )
    assert found.sink.warnings == []


def test_a_local_time_takes_the_exhibit_zone_marked_assumed(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.jpg", scene(), camera_exif(original="2023:01:15 09:00:00"))
    berlin = run(path, tmp_path / "a", zone="Europe/Berlin").sink.document_context["captured"]
    assert berlin == {
        "utc": "2023-01-15T08:00:00",
        "local": "2023:01:15 09:00:00",
        "tag": "DateTimeOriginal",
        "time_zone": "Europe/Berlin",
        "time_zone_assumed": True,
    }
    unknown = run(path, tmp_path / "b").sink.document_context["captured"]
    assert unknown["utc"] == "2023-01-15T09:00:00"
    assert unknown["time_zone"] == "UTC" and unknown["time_zone_assumed"] is True


def test_unknown_and_impossible_times(tmp_path: Path) -> None:
    blank = write(tmp_path / "a.jpg", scene(), camera_exif(original="0000:00:00 00:00:00"))
    found = run(blank, tmp_path / "a")
    assert "captured" not in found.sink.document_context and found.sink.warnings == []
    wrong = write(tmp_path / "b.jpg", scene(), camera_exif(original="2023:02:30 25:00:00"))
    found = run(wrong, tmp_path / "b")
    assert "captured" not in found.sink.document_context
    assert found.sink.warnings == [
        "DateTimeOriginal '2023:02:30 25:00:00' is no date and time: ignored"
    ]
    assert "authoredAt" not in found.properties


def test_a_picture_without_exif(tmp_path: Path) -> None:
    found = run(write(tmp_path / "plain.png", scene()), tmp_path / "work")
    context = found.sink.document_context
    assert set(context) == {"image", "pdq"}
    assert found.sink.document_schema == "Image" and found.properties == {}
    assert found.text == "Picture PNG 640×480"
    assert found.sink.warnings == []


@pytest.mark.parametrize(
    ("gps", "warning"),
    [
        (
            {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: rationals((51, 0), (30, 1), (0, 0)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((7, 1), (1, 1), (0, 1))},
            "GPSLatitude unreadable (zero denominator or malformed): ignored",
        ),
        (
            {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: rationals((95, 1), (0, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((7, 1), (1, 1), (0, 1))},
            "GPSLatitude 95° is out of range: ignored",
        ),
        (
            {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: rationals((51, 1), (0, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((181, 1), (0, 1), (0, 1))},
            "GPSLongitude 181° is out of range: ignored",
        ),
        (
            {GPS.GPSLatitude: rationals((51, 1), (0, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((7, 1), (0, 1), (0, 1))},
            "GPSLatitude has no hemisphere (GPSLatitudeRef): ignored",
        ),
        (
            {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: rationals((0, 1), (0, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((0, 1), (0, 1), (0, 1))},
            "GPS position 0°, 0° is what cameras write without a fix",
        ),
        (
            {GPS.GPSStatus: "V",
             GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: rationals((51, 1), (0, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((7, 1), (0, 1), (0, 1))},
            "GPS receiver marked its fix void (GPSStatus V): no point kept",
        ),
        (
            {GPS.GPSLatitudeRef: "S", GPS.GPSLatitude: rationals((10, 1), (75, 1), (0, 1)),
             GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: rationals((7, 1), (0, 1), (0, 1))},
            "GPSLatitude unreadable (zero denominator or malformed): ignored",  # 75 minutes
        ),
    ],
)  # fmt: skip
def test_bad_gps_leaves_no_point_and_a_warning(
    tmp_path: Path, gps: dict[int, Any], warning: str
) -> None:
    path = write(tmp_path / "photo.jpg", scene(), camera_exif(gps))
    found = run(path, tmp_path / "work")
    point = found.sink.document_context["gps"]
    assert "latitude" not in point and "longitude" not in point
    assert point["raw"]["GPSLatitudeRef" if GPS.GPSLatitudeRef in gps else "GPSLongitude"]
    assert warning in found.sink.warnings
    assert found.sink.document_context["exif"]["model"] == "Canon EOS 5D Mark IV"  # kept
    assert "GPS" not in found.text


def test_zero_denominators_are_kept_raw_for_a_person_to_judge() -> None:
    gps: dict[int, Any] = {
        GPS.GPSLatitudeRef: "N",
        GPS.GPSLatitude: rationals((51, 0), (30, 1), (0, 0)),
    }
    reading = read_gps(gps)
    assert reading is not None
    assert reading.context()["raw"] == {"GPSLatitudeRef": "N", "GPSLatitude": ["51/0", 30, "0/0"]}


def test_southern_and_western_hemispheres_are_negative() -> None:
    reading = read_gps(
        {GPS.GPSLatitudeRef: "S", GPS.GPSLatitude: rationals((33, 1), (51, 1), (3564, 100)),
         GPS.GPSLongitudeRef: "W", GPS.GPSLongitude: rationals((70, 1), (3, 1), (0, 1)),
         GPS.GPSAltitude: IFDRational(520, 1)}
    )  # fmt: skip
    assert reading is not None
    assert (reading.latitude, reading.longitude, reading.altitude) == (-33.8599, -70.05, 520.0)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([int(tag) for tag in GPS]),
        st.one_of(
            st.text(max_size=5),
            st.binary(max_size=5),
            st.integers(-(2**40), 2**40),
            st.tuples(*[st.builds(IFDRational, st.integers(-10, 400), st.integers(0, 5))] * 3),
            st.builds(IFDRational, st.integers(-10, 400), st.integers(0, 5)),
        ),
    )
)
def test_any_gps_block_gives_a_point_in_range_or_none(gps: dict[int, Any]) -> None:
    reading = read_gps(gps)
    if reading is None:
        assert not gps
        return
    if reading.latitude is not None:
        assert -90 <= reading.latitude <= 90 and reading.longitude is not None
        assert -180 <= reading.longitude <= 180
    reading.context()  # always renders


# --- orientation, hostile and broken files -------------------------------------------------


def test_pdq_and_thumbnail_see_the_picture_upright(tmp_path: Path) -> None:
    upright = scene((300, 200))
    exif = Image.Exif()
    exif[Base.Orientation] = 6  # stored turned left: shown after turning 90° clockwise
    stored = write(tmp_path / "stored.png", upright.transpose(Image.Transpose.ROTATE_90), exif)
    plain = write(tmp_path / "upright.png", upright)
    stored_hash = run(stored, tmp_path / "a").sink.document_context["pdq"]["hash"]
    assert stored_hash == run(plain, tmp_path / "b").sink.document_context["pdq"]["hash"]
    thumbnail = Image.open(io.BytesIO(make_thumbnail(stored, max_side=150)))
    assert thumbnail.size == (150, 100)


def test_a_truncated_jpeg_keeps_its_metadata_with_a_warning(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.jpg", scene(), camera_exif(LONDON_EYE), quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    found = run(cut, tmp_path / "work")
    context = found.sink.document_context
    assert found.sink.warnings == [
        "picture is truncated: hash and OCR see only the part its data holds"
    ]
    assert context["image"]["complete"] is False and context["pdq"]["complete"] is False
    assert context["exif"]["model"] == "Canon EOS 5D Mark IV"
    assert context["gps"]["latitude"] == pytest.approx(51.5053)
    original = run(whole, tmp_path / "whole").sink.document_context["pdq"]["hash"]
    assert distance(original, context["pdq"]["hash"]) > 0


def test_a_header_only_jpeg_is_metadata_only(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.jpg", scene(), camera_exif(), quality=90)
    data = whole.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: data.index(b"\xff\xda")])  # everything before the scan
    found = run(cut, tmp_path / "work")
    assert "pdq" not in found.sink.document_context
    assert found.sink.document_context["exif"]["make"] == "Canon"
    assert found.sink.warnings[0].startswith("pixel data cannot be decoded")


def png_header(width: int, height: int) -> bytes:
    """A PNG that announces ``width``×``height`` pixels and holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    ("width", "height"), [(100_000, 100_000), (MAX_PIXELS // 10_000 + 1, 10_000)]
)
def test_a_decompression_bomb_is_refused_from_its_header(
    tmp_path: Path, width: int, height: int
) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(width, height))
    with pytest.raises(LimitReached, match="pixels"):
        run(bomb, tmp_path / "work")
    with pytest.raises(ThumbnailError):
        make_thumbnail(bomb)


def test_not_a_picture(tmp_path: Path) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + b"garbage" * 20)
    with pytest.raises(BrokenFile):
        run(fake, tmp_path / "work")
    with pytest.raises(ThumbnailError):
        make_thumbnail(fake.read_bytes())


def test_a_hostile_exif_block_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.jpg", scene(), quality=90)
    data = path.read_bytes()
    # An APP1 "Exif" segment whose TIFF header points its first IFD far outside the block.
    tiff = b"II*\x00" + struct.pack("<I", 0x7FFFFFF0) + b"\x00" * 16
    segment = b"Exif\x00\x00" + tiff
    hostile = data[:2] + b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + data[2:]
    path.write_bytes(hostile)
    found = run(path, tmp_path / "work")
    assert "pdq" in found.sink.document_context
    assert "exif" not in found.sink.document_context
    assert [w for w in found.sink.warnings if w.startswith("Pillow noted: Corrupt EXIF data")]


# --- perceptual hashes --------------------------------------------------------------------


def test_pdq_survives_resizing_and_recompression_but_tells_pictures_apart(tmp_path: Path) -> None:
    first = write(tmp_path / "first.png", scene(seed=1))
    copy = write(tmp_path / "copy.jpg", scene(seed=1).resize((320, 240)), quality=60)
    other = write(tmp_path / "other.png", scene(seed=5))
    hashes = [
        run(p, tmp_path / p.stem).sink.document_context["pdq"]["hash"] for p in (first, copy, other)
    ]
    assert distance(hashes[0], hashes[1]) <= 16
    assert distance(hashes[0], hashes[2]) >= 70


@needs_corpus
def test_pdq_of_real_photos(tmp_path: Path) -> None:
    original = Image.open(SAMPLES / "DSCN0010.jpg")
    smaller = write(tmp_path / "small.jpg", original.resize((400, 300)), quality=50)
    hashes = {
        name: run(path, tmp_path / name).sink.document_context["pdq"]
        for name, path in (
            ("original", SAMPLES / "DSCN0010.jpg"),
            ("smaller", smaller),
            ("other", SAMPLES / "DSCN0025.jpg"),
        )
    }
    assert hashes["original"] == {
        "hash": "564e785eb0c31ac72b4b8e94d0e68dc3dfb04b4975cfd1eb8759a31c038d806d",
        "quality": 100,
    }
    assert distance(hashes["original"]["hash"], hashes["smaller"]["hash"]) <= 16
    assert distance(hashes["original"]["hash"], hashes["other"]["hash"]) >= 80
    assert pdq_hash(Image.new("RGB", (64, 64), "grey")).quality == 0  # flat: no use matching


# --- the shared corpus ----------------------------------------------------------------------


def corpus_rows() -> list[dict[str, str]]:
    with (CORPUS / "images" / "EXIF.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@needs_corpus
def test_corpus_exif_matches_the_reference_table(tmp_path: Path) -> None:
    heif = enable_heif()
    with_gps: list[str] = []
    for row in corpus_rows():
        name = row["file"]
        if name.lower().endswith((".heic", ".heif")) and not heif:
            continue
        found = run(SAMPLES / name, tmp_path / name)
        context = found.sink.document_context
        camera = context.get("exif", {})
        assert camera.get("make", "") == row["make"], name
        assert camera.get("model", "") == row["model"], name
        captured = context.get("captured", {})
        assert captured.get("local", "") == row["datetime_original"], name
        gps = context.get("gps", {})
        if row["gps_lat"]:
            with_gps.append(name)
            assert gps["latitude"] == pytest.approx(float(row["gps_lat"]), abs=1e-5), name
            assert gps["longitude"] == pytest.approx(float(row["gps_lon"]), abs=1e-5), name
        else:
            assert "latitude" not in gps, name
        assert "pdq" in context, name
        if row["model"]:
            assert row["model"] in found.text, name
    assert len(with_gps) == (16 if heif else 14)


@needs_corpus
def test_corpus_photo_in_full(tmp_path: Path) -> None:
    found = run(SAMPLES / "HMD_Nokia_8.3_5G.jpg", tmp_path / "work", zone="Europe/Helsinki")
    context = found.sink.document_context
    assert found.properties == {
        "authoredAt": ["2022-08-14T11:12:31"],
        "generator": ["00WW_3_380_SP02"],
    }
    assert context["captured"] == {
        "utc": "2022-08-14T11:12:31",
        "local": "2022:08:14 14:12:31",
        "tag": "DateTimeOriginal",
        "time_zone": "+03:00",
    }
    assert context["gps"]["latitude"] == pytest.approx(60.146706, abs=1e-6)
    assert context["gps"]["longitude"] == pytest.approx(24.906772, abs=1e-6)
    assert context["gps"]["time"] == "2022-08-14T11:12:32"
    assert context["exif"]["make"] == "HMD Global"
    assert context["image"]["width"] == 4608 and context["image"]["height"] == 1976
    assert found.sink.warnings == []


@needs_corpus
@pytest.mark.parametrize(
    "name", ["corrupted.jpg", "image00971.jpg", "87_OSError.jpg", "67-0_length_string.jpg"]
)
def test_corpus_edge_cases_ingest(tmp_path: Path, name: str) -> None:
    found = run(SAMPLES / name, tmp_path / "work")
    assert found.sink.document_context["image"]["complete"] is True
    assert make_thumbnail(SAMPLES / name, max_side=64)[:3] == b"\xff\xd8\xff"


# --- OCR ----------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_text_in_a_picture_is_read_by_ocr(tmp_path: Path) -> None:
    picture = Image.new("RGB", (1400, 200), "white")
    draw = ImageDraw.Draw(picture)
    draw.text((40, 60), "INVOICE 4471 PAID", fill="black", font_size=72)
    found = run(write(tmp_path / "note.png", picture), tmp_path / "work", languages=("eng",))
    assert "INVOICE 4471" in found.text
    assert found.text.startswith("Picture PNG 1400×200")
    assert found.sink.document_context["ocr"]["engine"].startswith("tesseract")


# --- thumbnails ---------------------------------------------------------------------------


def test_a_thumbnail_is_a_small_jpeg_without_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.jpg", scene((1000, 500)), camera_exif(LONDON_EYE), quality=90)
    data = make_thumbnail(path)
    assert data == make_thumbnail(path.read_bytes()) == make_thumbnail(str(path))
    thumbnail = Image.open(io.BytesIO(data))
    assert thumbnail.format == "JPEG" and thumbnail.size == (256, 128)
    assert not thumbnail.getexif() and b"Exif" not in data and b"Canon" not in data
    assert "icc_profile" not in thumbnail.info


def test_thumbnails_of_transparent_and_deep_pictures(tmp_path: Path) -> None:
    clear = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    flat = Image.open(io.BytesIO(make_thumbnail(write(tmp_path / "clear.png", clear))))
    assert flat.getpixel((20, 20)) == pytest.approx((255, 255, 255), abs=3)
    deep = Image.linear_gradient("L").convert("I").point(lambda value: value * 4)
    grey = Image.open(
        io.BytesIO(make_thumbnail(write(tmp_path / "deep.png", deep.convert("I;16"))))
    )
    low, high = cast(tuple[int, int], grey.convert("L").getextrema())
    assert low < 10 and high > 245  # stretched to 8 bits, not clipped to white
    with pytest.raises(ValueError):
        make_thumbnail(tmp_path / "clear.png", max_side=0)


# --- registration and the service ---------------------------------------------------------


def test_scores(tmp_path: Path) -> None:
    jpeg = write(tmp_path / "a.dat", scene(), format="JPEG")
    source, _ = source_for(jpeg, tmp_path / "work")
    assert ImageIngestor.score(source) == ImageIngestor.base_score + 2  # by its MIME type
    heic = dataclasses.replace(source, mime_type="image/heic", head=b"", name="x.heic")
    assert ImageIngestor.score(heic) == ImageIngestor.base_score + 2
    svg = dataclasses.replace(source, mime_type="image/svg+xml", head=b"<svg", name="x.svg")
    assert ImageIngestor.score(svg) == 0


def test_a_photo_through_the_service(tmp_path: Path, database_url: str | None) -> None:
    app = new_installation(
        tmp_path / "home", database_url, "photos", workers=1, batch_seconds=0.2,
        ingestor_plugins=[PLUGIN], ocr_languages=[],
    )  # fmt: skip
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    write(evidence / "photo.jpg", scene(), camera_exif(LONDON_EYE), quality=90)
    (evidence / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    acquisition = Acquisition(exhibit="CAMERA/1", timezone="Europe/London")
    app.ingest.ingest(ADMIN, "C", [str(evidence)], acquisition)
    with app.runtime.transaction() as connection:
        states = {
            row.name: (row.state, row.format)
            for row in connection.execute(select(items.c.name, items.c.state, items.c.format))
        }
        photo = connection.execute(
            select(entities.c.properties, entities.c.context).where(entities.c.schema == "Image")
        ).one()
    app.close()
    assert states["photo.jpg"] == ("ingested", "image")
    assert states["broken.jpg"][0] in {"failed", "unsupported"}
    assert photo.properties["authoredAt"] == ["2023-06-14T17:30:05"]  # 18:30:05 BST
    assert photo.context["captured"]["time_zone"] == "Europe/London"
    assert photo.context["captured"]["time_zone_assumed"] is True
    assert photo.context["gps"]["latitude"] == pytest.approx(51.5053)
    assert len(photo.context["pdq"]["hash"]) == 64


# --- other formats --------------------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "kind"), [(".webp", "WEBP"), (".tif", "TIFF"), (".png", "PNG")])
def test_exif_in_other_formats(tmp_path: Path, suffix: str, kind: str) -> None:
    path = write(tmp_path / f"photo{suffix}", scene(), camera_exif(LONDON_EYE, offset="+01:00"))
    found = run(path, tmp_path / "work")
    context = found.sink.document_context
    assert context["image"]["format"] == kind
    assert context["exif"]["model"] == "Canon EOS 5D Mark IV"
    if kind == "TIFF":
        return  # Pillow's TIFF writer keeps IFD0 only: no Exif or GPS sub-IFD to read back
    assert context["captured"]["utc"] == "2023-06-14T17:30:05"
    assert context["gps"]["longitude"] == pytest.approx(-0.1214667, abs=1e-7)


@needs_corpus
def test_a_truncated_heic_is_flagged(tmp_path: Path) -> None:
    if not enable_heif():
        pytest.skip("HEIF support (pi-heif) not installed")
    data = (SAMPLES / "IMG_5195.HEIC").read_bytes()
    cut = tmp_path / "cut.heic"
    cut.write_bytes(data[: len(data) // 2])
    found = run(cut, tmp_path / "work")
    assert found.sink.document_context["image"]["complete"] is False
    assert found.sink.warnings == [
        "picture is truncated: hash and OCR see only the part its data holds"
    ]
    assert found.sink.document_context["exif"]["model"] == "iPhone 11 Pro Max"


def test_heic_without_the_extra_is_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import caselens.ingest.formats.image as image_module

    def unreadable(stream: Any) -> Image.Image:
        raise UnidentifiedImageError("no plugin")

    monkeypatch.setattr(image_module, "open_image", unreadable)
    monkeypatch.setattr(image_module, "enable_heif", lambda: False)
    heic = tmp_path / "photo.heic"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    source, _ = source_for(heic, tmp_path / "work")
    source = dataclasses.replace(source, mime_type="image/heic")
    sink = Sink(CASE_ID, source.item_id, source.limits, lambda stream: digest_bytes(b""), 0)
    with pytest.raises(UnsupportedVersion, match="'heif' extra"):
        ImageIngestor().ingest(source, sink)


def test_a_thumbnail_is_made_once_from_the_verified_blob(tmp_path: Path) -> None:
    from caselens.errors import InvalidInput
    from tests.conftest import ADMIN, new_installation

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    Image.new("RGB", (800, 400), (10, 120, 200)).save(evidence / "photo.jpg")
    (evidence / "note.txt").write_text("not a picture")
    app = new_installation(tmp_path / "home", None)
    try:
        app.ingest.ingest(ADMIN, "C", [str(evidence)])
        listed = {row["name"]: row for row in app.items.list(ADMIN, "C")}
        preview = app.items.thumbnail(ADMIN, "C", listed["photo.jpg"]["id"], 128)
        with Image.open(io.BytesIO(preview)) as shown:
            assert shown.format == "JPEG" and shown.size == (128, 64)
        cached = list((tmp_path / "home" / "thumbnails").rglob("*-128.jpg"))
        assert [path.read_bytes() for path in cached] == [preview]
        with pytest.raises(InvalidInput, match="not a picture"):
            app.items.thumbnail(ADMIN, "C", listed["note.txt"]["id"])
    finally:
        app.close()
