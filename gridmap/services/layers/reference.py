"""Import a reference layer (roads, water, compounds or buildings) from a GeoJSON, KML, GeoPackage or zipped
Shapefile in any supported coordinate system: read by the one file reader (geodata.io: magic bytes, the
driver GDAL detected, zip limits, CRS to WGS84), each geometry checked at once over the whole file (coordinates
that are no longer/latitude, the geometry family of the kind, the name's text), invalid ones repaired; any row
refused → the file is refused with every refused row named (row, field, reason) and nothing is written; else
the layer of that kind for the chosen street (or the whole city) is replaced in one transaction, through COPY.

It runs as an import job (services/imports/layer_jobs.py): in the request for a small file, else in a worker
(a street's buildings are tens of thousands of polygons). :func:`check_rights` is what the request checks
before the job is stored; the import checks it again when it runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.io import read_features
from geodata.validation import GeometryRejected, unstorable_text
from gridmap import policy
from gridmap.models import ReferenceFeature, ReferenceKind
from gridmap.rules.fields import hidden_refusal
from gridmap.services import audit
from gridmap.services.layers.city_loader import copy_frame
from gridmap.services.layers.rows import MAX_ERRORS
from gridmap.services.reasons import reason
from gridmap.services.refused import Refused, not_found

MAX_FEATURES = 100_000
NAME_COLUMNS = ("名称", "name", "NAME", "Name", "名字")
STREET_MARGIN = 0.002  # degrees (about 200 m): a street's layer keeps what lies this close to the street
_CHUNK = 5000  # rows between two progress reports of the name checks
_TYPE_IDS = {"LineString": 1, "Polygon": 3, "MultiLineString": 5, "MultiPolygon": 6}
_FAMILY = {  # the geometry family each kind must have
    ReferenceKind.ROAD: ("LineString", "MultiLineString"),
    ReferenceKind.WATER: ("Polygon", "MultiPolygon", "LineString", "MultiLineString"),
    ReferenceKind.COMPOUND: ("Polygon", "MultiPolygon"),
    ReferenceKind.BUILDING: ("Polygon", "MultiPolygon"),
}
_COLLECTION = 7  # shapely's type id of a GeometryCollection (make_valid's mixed output)


def check_rights(user, kind: str, street_id) -> object:
    """The kind (400), the right to import reference layers (403) and the street (404 out of scope; required
    but for the system admin, whose empty street is the whole city). Returns the street, or None for the city."""
    if kind not in ReferenceKind.values:
        raise Refused(
            400, "bad_value", field="kind", detail=_("可选值：%(values)s") % {"values": ", ".join(ReferenceKind.values)}
        )
    if not policy.reference_streets_for(user).exists():
        raise Refused(403, "forbidden", detail=_("无权导入参考图层"))
    streets = policy.reference_streets_for(user)
    if street_id in (None, ""):
        if policy.role_of(user) != "system_admin":
            raise Refused(400, "required", field="street", detail=_("请选择街道"))
        return None
    try:
        street = streets.filter(pk=int(street_id)).first()
    except (TypeError, ValueError):
        raise Refused(400, "bad_value", field="street", detail=_("应为街道编号")) from None
    if street is None:
        raise not_found("street")
    return street


class _Refusals:
    """The refused rows of one file (the first MAX_ERRORS kept, all counted)."""

    def __init__(self):
        self.errors: list[dict] = []
        self.count = 0

    def add(self, row: int, field: str, code: str, detail: str) -> None:
        self.count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": field, "code": code, "detail": detail})

    def raise_any(self) -> None:
        if not self.count:
            return
        self.errors.sort(key=lambda e: e["row"])  # checked by kind of fault, listed in the file's order
        first = self.errors[0]
        field = f"rows[{first['row']}]" + (".name" if first["field"] == "name" else "")
        detail = _("第 %(row)s 行：%(reason)s") % {"row": first["row"], "reason": first["detail"]}
        raise Refused(400, first["code"], field=field, detail=detail, errors=self.errors, error_count=self.count)


def _coordinates(geoms: np.ndarray, present: np.ndarray, refused: _Refusals) -> np.ndarray:
    """Rows whose coordinates are longitude and latitude; the others refused (metres of a projected CRS read as
    degrees: the coordinate system declared wrong or missing)."""
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(bounds).all(axis=1) & (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
        good &= (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1)
    for i in np.flatnonzero(present & ~good):
        x, y = shapely.get_coordinates(geoms[i])[0]
        code = "looks_projected" if abs(x) > 1000 or abs(y) > 1000 else "out_of_range"
        detail = reason(code, note=_("请在“坐标系”中选择文件所用的坐标系"), location=(x, y))
        refused.add(int(i) + 1, "geometry", code, detail)
    return good


def _rows(frame, kind: str, street, progress) -> tuple[pd.DataFrame, int]:
    """The rows to store (name, EWKB hex) and how many lie outside the street; refused rows raise, all named."""
    total = len(frame)
    progress(0, total)
    geoms = shapely.force_2d(frame.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))  # an empty row has nothing to draw
    refused = _Refusals()
    usable = present & _coordinates(geoms, present, refused)
    geoms = np.where(usable, geoms, None)
    geoms[usable] = shapely.make_valid(geoms[usable])
    keep = usable.copy()
    outside = 0
    if street is not None:  # drawn on everyone's map: a street's layer keeps what lies in or near the street
        area = shapely.from_wkb(bytes(street.boundary.wkb)).buffer(STREET_MARGIN)
        shapely.prepare(area)
        near = np.zeros(total, dtype=bool)
        near[usable] = shapely.intersects(area, geoms[usable])
        outside = int((usable & ~near).sum())
        keep &= near
    family = _FAMILY[kind]
    for i in np.flatnonzero(keep & (shapely.get_type_id(geoms) == _COLLECTION)):  # keep the family's parts
        parts = [g for g in geoms[i].geoms if g.geom_type in family]
        geoms[i] = shapely.union_all(parts) if parts else geoms[i]
    types = shapely.get_type_id(geoms)
    wrong = keep & ~np.isin(types, [_TYPE_IDS[t] for t in family])
    for i in np.flatnonzero(wrong):
        detail = _("%(type)s 不能作为%(kind)s") % {"type": geoms[i].geom_type, "kind": ReferenceKind(kind).label}
        refused.add(int(i) + 1, "geometry", "geometry_type", detail)
    names = next((frame[c] for c in NAME_COLUMNS if c in frame.columns), pd.Series([""] * total))
    kept = []
    for n, i in enumerate(np.flatnonzero(keep & ~wrong)):
        if n % _CHUNK == 0:
            progress(int(i), total)
        name = names.iloc[i]
        text = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
        if code := unstorable_text(text) or hidden_refusal(text):  # the one text rule of layer rows
            refused.add(int(i) + 1, "name", code, reason(code))
            continue
        kept.append((text[:100], shapely.to_wkb(shapely.set_srid(geoms[i], 4326), hex=True, include_srid=True)))
    refused.raise_any()
    if not kept:
        if outside:
            raise Refused(
                400,
                "no_features",
                field="file",
                detail=_("文件中没有位于所选街道（及其周边约 200 米）的要素，请检查坐标系"),
            )
        raise Refused(400, "no_features", field="file")
    progress(total, total)
    return pd.DataFrame(kept, columns=["name", "geometry"]), outside


@transaction.atomic
def import_reference(
    user,
    kind: str,
    data: bytes,
    *,
    street_id=None,
    source_crs=None,
    encoding=None,
    filename="",
    request=None,
    progress=None,
) -> dict:
    """Replace the ``kind`` layer of a street (or of the whole city) with the file's features.
    ``progress(done, total)`` hears of the row checks (the job's progress bar)."""
    street = check_rights(user, kind, street_id)
    try:
        frame = read_features(data, source_crs=source_crs, encoding=encoding, max_features=MAX_FEATURES)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, "file") from None
    rows, outside = _rows(frame, kind, street, progress or (lambda done, total: None))
    replaced = ReferenceFeature.objects.filter(kind=kind, street=street).delete()[0]
    rows.insert(0, "kind", kind)
    rows["street_id"] = street.pk if street else None
    rows["source"] = (filename or "upload")[:200]
    with connection.cursor() as cursor:
        copy_frame(cursor.cursor, "gridmap_referencefeature", rows[["kind", "name", "geometry", "street_id", "source"]])
        cursor.execute("SELECT now()")  # the rows' imported_at (the database's default: the transaction's start)
        imported_at = cursor.fetchone()[0]
    audit.record(user, "import", "reference", kind, request=request, fields=f"rows={len(rows)} replaced={replaced}")
    return {
        "kind": kind,
        "street": street.pk if street else None,
        "features": len(rows),
        "replaced": replaced,
        "outside": outside,
        "imported_at": timezone.localtime(imported_at).isoformat(),
    }
