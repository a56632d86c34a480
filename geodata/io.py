"""Read polygon files safely: GeoJSON, GeoPackage, zipped Shapefile, KML → GeoDataFrame in EPSG:4326.

The format is decided by the file's first bytes, never by its name, and only these four drivers are
used (no VRT, GML or anything that can reference other files). A zip is checked before anything is
extracted: entry count, declared sizes, compression ratio, names (no absolute paths, ``..``, drive
letters or symlinks); only the Shapefile parts are written, under fixed names in a private temporary
directory. KML with a DOCTYPE or entity declarations is refused (entity expansion). Geometries are not
validated here: the caller runs each one through :mod:`geodata.validation`.

A Shapefile's text encoding comes from, in this order, the declared ``encoding``, its ``.cpg``, or
nothing: then every name and value in the ``.dbf`` must be valid UTF-8, because GBK bytes read as
anything else become mojibake (张三 → ÕÅÈý) that would be stored silently. Bytes that do not decode in
the chosen encoding are refused too. Coordinates: the file's own CRS (``.prj``, GeoPackage) wins unless
it is WGS84 and a system is declared (GeoJSON is always "WGS84", whatever the numbers say).

Examples
--------
>>> frame = read_polygon_file(b'{"type":"FeatureCollection","features":[{"type":"Feature",'
...     b'"properties":{"name":"A"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}')
>>> list(frame.columns), frame.crs.to_epsg()
(['name', 'geometry'], 4326)
"""

from __future__ import annotations

import io
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geodata.crs import resolve_crs, to_wgs84
from geodata.validation import GeometryRejected

MAX_BYTES = 20_000_000
MAX_FEATURES = 2_000
MAX_ZIP_ENTRIES = 20
MAX_UNZIPPED = 100_000_000
MAX_RATIO = 100
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
# .cpg contents and declared names → Python codecs; GBK files are read as GB18030, its superset.
ENCODINGS = {
    "UTF8": "utf-8",
    "UTF-8": "utf-8",
    "65001": "utf-8",
    "GBK": "gb18030",
    "CP936": "gb18030",
    "936": "gb18030",
    "GB2312": "gb18030",
    "GB18030": "gb18030",
    "54936": "gb18030",
    "BIG5": "big5",
    "CP950": "big5",
    "950": "big5",
}


def read_features(
    data: bytes, *, source_crs: str | None = None, encoding: str | None = None, max_features: int = MAX_FEATURES
) -> gpd.GeoDataFrame:
    """Read ``data`` (the uploaded bytes) into a GeoDataFrame in EPSG:4326.

    ``source_crs`` (WGS84, CGCS2000, GCJ02, BD09) is required when the file carries no CRS (a Shapefile
    without ``.prj``) and overrides a WGS84 one for coordinates copied from Amap/Baidu. Raises
    GeometryRejected with ``field="file"`` naming the problem.
    """
    if len(data) > MAX_BYTES:
        raise GeometryRejected("too_large", field="file", too_large=True)
    kind = _sniff(data)
    if kind in ("geojson", "kml") and (b"\x00" in data or b"\\u0000" in data):
        # GDAL ends a string at NUL: "名\u0000字" would be stored cut short without a word.
        raise GeometryRejected("nul_byte", field="file")
    if kind == "geojson":
        _refuse_linked_crs(data)
    with tempfile.TemporaryDirectory(prefix="gridimport-") as tmp:
        if kind == "zip":
            path = _extract_shapefile(data, Path(tmp))
            encoding = _dbf_encoding(Path(tmp), encoding)
        else:
            path = Path(tmp) / {"geojson": "upload.geojson", "gpkg": "upload.gpkg", "kml": "upload.kml"}[kind]
            path.write_bytes(data)
        try:
            # pyogrio ignores a driver= argument (GDAL probes the file itself), so the driver GDAL actually
            # chose is checked against the one the first bytes promised: an Esri-JSON file sniffed as GeoJSON
            # (both start with "{") is refused here instead of being read by another driver.
            info = pyogrio.read_info(path)
            if info.get("driver") not in DRIVERS[kind]:
                raise GeometryRejected(
                    "driver_mismatch", field="file", detail=f"{info.get('driver')} != {' / '.join(DRIVERS[kind])}"
                )
            if info["features"] > max_features:
                raise GeometryRejected("too_many_features", field="file", detail=f"{info['features']} > {max_features}")
            frame = pyogrio.read_dataframe(path, encoding=encoding)
        except GeometryRejected:
            raise
        except Exception as exc:  # GDAL's errors on a corrupt file: the user's problem, not a 500
            raise GeometryRejected("unreadable_file", field="file", detail=str(exc)[:200]) from None
    if frame.empty:
        raise GeometryRejected("no_features", field="file")
    return _to_wgs84(frame, source_crs)


read_polygon_file = read_features  # the grid import's name for it

# The GDAL driver each sniffed kind must open with (the allowlist: no other driver reads an upload).
DRIVERS = {"zip": ("ESRI Shapefile",), "geojson": ("GeoJSON",), "gpkg": ("GPKG",), "kml": ("KML", "LIBKML")}


def _sniff(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"{"):
        return "geojson"
    if head.startswith(b"<?xml") or head.startswith(b"<kml"):
        if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
            raise GeometryRejected("xml_entities", field="file")
        if b"<kml" not in data[:4096]:
            raise GeometryRejected("unsupported_format", field="file")
        return "kml"
    raise GeometryRejected("unsupported_format", field="file")


_CRS_MEMBER = re.compile(r'"crs"\s*:\s*\{\s*"type"\s*:\s*"([^"]{0,40})"')


def _refuse_linked_crs(data: bytes) -> None:
    """A GeoJSON ``crs`` other than a named one (a link, an EPSG object) is refused naming ``crs`` before GDAL,
    which would follow the link or fail with a generic error; the member leads the file in practice."""
    found = _CRS_MEMBER.search(data[:65_536].decode("utf-8", "ignore"))
    if found and found.group(1) != "name":
        raise GeometryRejected("crs_not_wgs84", field="crs", detail=f'crs "{found.group(1)}": only a named crs')


def _extract_shapefile(data: bytes, into: Path) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise GeometryRejected("unreadable_file", field="file", detail="zip") from None
    entries = check_zip(archive)
    parts: dict[str, zipfile.ZipInfo] = {}
    for entry in entries:
        name = entry.filename
        if entry.is_dir() or PurePosixPath(name).name.startswith(("._", ".")):
            continue
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in _SHAPEFILE_PARTS:
            if suffix in parts:
                raise GeometryRejected("zip_several_shapefiles", field="file")
            parts[suffix] = entry
    for needed in (".shp", ".shx", ".dbf"):
        if needed not in parts:
            raise GeometryRejected("shapefile_part_missing", field="file", detail=needed)
    for suffix, entry in parts.items():  # fixed names: nothing of the archive's paths reaches the disk
        try:  # never more than the entry declares (check_zip measured the declared sizes)
            with archive.open(entry) as source:
                content = source.read(entry.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:  # damaged or exotic
            raise GeometryRejected("unreadable_file", field="file", detail=f"{entry.filename}: {exc}"[:120]) from None
        if len(content) > entry.file_size:  # inflates past its declared size: a bomb that lies
            raise GeometryRejected("zip_bomb", field="file", too_large=True, detail=entry.filename[:80])
        (into / f"upload{suffix}").write_bytes(content)
    return into / "upload.shp"


def _dbf_encoding(folder: Path, declared: str | None) -> str:
    """The codec for the .dbf's text: declared, else the .cpg, else UTF-8 if (and only if) it decodes."""
    raw = (folder / "upload.dbf").read_bytes()
    text = _dbf_text(raw)
    cpg = folder / "upload.cpg"
    if declared:
        source, name = "encoding", declared
    elif cpg.exists():
        source, name = "file", cpg.read_bytes()[:40].decode("ascii", "replace").strip()
    else:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            raise GeometryRejected(
                "encoding_required", field="encoding", detail="no .cpg and the .dbf is not UTF-8 (GBK?)"
            ) from None
        return "UTF-8"
    codec = ENCODINGS.get(name.upper().replace("_", "-").removeprefix("CP-"))
    if codec is None:
        raise GeometryRejected("unknown_encoding", field=source, detail=name[:40])
    try:
        text.decode(codec)
    except UnicodeDecodeError:
        raise GeometryRejected("encoding_mismatch", field=source, detail=name[:40]) from None
    return {"utf-8": "UTF-8", "gb18030": "GB18030", "big5": "CP950"}[codec]


def _dbf_text(raw: bytes) -> bytes:
    """The .dbf's field names and records (the header's binary lengths and offsets left out)."""
    if len(raw) < 32:
        raise GeometryRejected("unreadable_file", field="file", detail=".dbf")
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[offset : offset + 11] for offset in range(32, max(32, header_len - 1), 32))
    return names.replace(b"\x00", b"") + raw[header_len:]


def check_zip(
    archive: zipfile.ZipFile,
    *,
    max_entries: int = MAX_ZIP_ENTRIES,
    max_unzipped: int = MAX_UNZIPPED,
    max_ratio: int = MAX_RATIO,
) -> list[zipfile.ZipInfo]:
    """Refuse a zip before anything is extracted: too many entries, a bomb, unsafe names or symlinks. The
    limits are a layer archive's unless given (a workbook's: geodata/sheets.py)."""
    entries = archive.infolist()
    if len(entries) > max_entries:
        raise GeometryRejected("zip_too_many_entries", field="file", detail=str(len(entries)))
    total = sum(e.file_size for e in entries)
    if total > max_unzipped or total > max_ratio * max(1, sum(e.compress_size for e in entries)):
        raise GeometryRejected("zip_bomb", field="file", too_large=True)
    for entry in entries:
        name = entry.filename
        mode = entry.external_attr >> 16
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or ":" in name
            or ".." in PurePosixPath(name).parts
            or stat.S_ISLNK(mode)
        ):
            raise GeometryRejected("zip_unsafe_entry", field="file", detail=name[:80])
    return entries


def _to_wgs84(frame: gpd.GeoDataFrame, source_crs: str | None) -> gpd.GeoDataFrame:
    declared = None
    if source_crs:
        try:
            sample = shapely.get_coordinates(frame.geometry.values[:50])[:, 0]
            declared = resolve_crs(source_crs, sample)
        except ValueError as exc:
            raise GeometryRejected("unknown_crs", field="source_crs", detail=str(exc)[:160]) from None
    if frame.crs is None and declared is None:
        raise GeometryRejected("crs_required", field="source_crs")
    own_wgs84 = frame.crs is None or frame.crs.equals("EPSG:4326") or frame.crs.to_epsg() == 4490
    if not own_wgs84:
        try:
            frame = frame.to_crs(4326)  # pyproj: the file's .prj / GeoPackage srs
        except Exception as exc:
            raise GeometryRejected("unknown_crs", field="file", detail=str(exc)[:120]) from None
    elif declared not in (None, "WGS84", "CGCS2000"):  # GCJ-02/BD-09 offsets or projected metres

        def convert(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], declared)
            return np.column_stack([lon, lat])

        try:
            frame = frame.set_geometry(shapely.transform(frame.geometry.values, convert))
        except ValueError as exc:
            raise GeometryRejected("unknown_crs", field="source_crs", detail=str(exc)[:160]) from None
    return frame.set_crs(4326, allow_override=True)
