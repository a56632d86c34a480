"""Read polygon files safely: GeoJSON, GeoPackage, zipped Shapefile, KML → GeoDataFrame in EPSG:4326.

The format is decided by the file's first bytes, never by its name, and only these four drivers are
used (no VRT, GML or anything that can reference other files). A zip is checked before anything is
extracted: entry count, declared sizes, compression ratio, names (no absolute paths, ``..``, drive
letters or symlinks); only the Shapefile parts are written, under fixed names in a private temporary
directory. KML with a DOCTYPE or entity declarations is refused (entity expansion). Geometries are not
validated here: the caller runs each one through :mod:`geodata.validation`.

Examples
--------
>>> frame = read_polygon_file(b'{"type":"FeatureCollection","features":[{"type":"Feature",'
...     b'"properties":{"name":"A"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}')
>>> list(frame.columns), frame.crs.to_epsg()
(['name', 'geometry'], 4326)
"""
from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geodata.crs import normalise_crs, to_wgs84
from geodata.validation import GeometryRejected

MAX_BYTES = 20_000_000
MAX_FEATURES = 2_000
MAX_ZIP_ENTRIES = 20
MAX_UNZIPPED = 100_000_000
MAX_RATIO = 100
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}


def read_polygon_file(data: bytes, *, source_crs: str | None = None, encoding: str | None = None,
                      max_features: int = MAX_FEATURES) -> gpd.GeoDataFrame:
    """Read ``data`` (the uploaded bytes) into a GeoDataFrame in EPSG:4326.

    ``source_crs`` (WGS84, CGCS2000, GCJ02, BD09) is required when the file carries no CRS (a Shapefile
    without ``.prj``) and overrides a WGS84 one for coordinates copied from Amap/Baidu. Raises
    GeometryRejected with ``field="file"`` naming the problem.
    """
    if len(data) > MAX_BYTES:
        raise GeometryRejected("too_large", field="file", too_large=True)
    kind = _sniff(data)
    with tempfile.TemporaryDirectory(prefix="gridimport-") as tmp:
        if kind == "zip":
            path = _extract_shapefile(data, Path(tmp))
        else:
            path = Path(tmp) / {"geojson": "upload.geojson", "gpkg": "upload.gpkg", "kml": "upload.kml"}[kind]
            path.write_bytes(data)
        driver = {"zip": "ESRI Shapefile", "geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML"}[kind]
        try:
            info = pyogrio.read_info(path, driver=driver)
            if info["features"] > max_features:
                raise GeometryRejected("too_many_features", field="file", detail=f"{info['features']} > {max_features}")
            frame = pyogrio.read_dataframe(path, driver=driver, encoding=encoding)
        except GeometryRejected:
            raise
        except Exception as exc:  # GDAL's errors on a corrupt file: the user's problem, not a 500
            raise GeometryRejected("unreadable_file", field="file", detail=str(exc)[:200]) from None
    if frame.empty:
        raise GeometryRejected("no_features", field="file")
    return _to_wgs84(frame, source_crs)


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


def _extract_shapefile(data: bytes, into: Path) -> Path:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise GeometryRejected("unreadable_file", field="file", detail="zip") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise GeometryRejected("zip_too_many_entries", field="file", detail=str(len(entries)))
    total = sum(e.file_size for e in entries)
    if total > MAX_UNZIPPED or total > MAX_RATIO * max(1, sum(e.compress_size for e in entries)):
        raise GeometryRejected("zip_bomb", field="file", too_large=True)
    parts: dict[str, zipfile.ZipInfo] = {}
    for entry in entries:
        name = entry.filename
        mode = entry.external_attr >> 16
        if (name.startswith(("/", "\\")) or "\\" in name or ":" in name or ".." in PurePosixPath(name).parts
                or stat.S_ISLNK(mode)):
            raise GeometryRejected("zip_unsafe_entry", field="file", detail=name[:80])
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
        with archive.open(entry) as source:
            (into / f"upload{suffix}").write_bytes(source.read(MAX_UNZIPPED + 1)[:MAX_UNZIPPED])
    return into / "upload.shp"


def _to_wgs84(frame: gpd.GeoDataFrame, source_crs: str | None) -> gpd.GeoDataFrame:
    declared = None
    if source_crs:
        try:
            declared = normalise_crs(source_crs)
        except ValueError as exc:
            raise GeometryRejected("unknown_crs", field="source_crs", detail=str(exc)[:120]) from None
    if frame.crs is None and declared is None:
        raise GeometryRejected("crs_required", field="source_crs")
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        try:
            frame = frame.to_crs(4326)
        except Exception as exc:
            raise GeometryRejected("unknown_crs", field="file", detail=str(exc)[:120]) from None
    if declared in ("GCJ02", "BD09"):  # offsets PROJ cannot express: move every vertex
        def shift(coords: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(coords[:, 0], coords[:, 1], declared)
            return np.column_stack([lon, lat])
        frame = frame.set_geometry(shapely.transform(frame.geometry.values, shift))
    return frame.set_crs(4326, allow_override=True)
