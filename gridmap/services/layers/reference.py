"""Import a reference layer (roads, water, compounds or buildings) from a GeoJSON, KML, GeoPackage or zipped
Shapefile in any supported coordinate system: read by the one file reader (geodata.io: magic bytes, the
driver GDAL detected, zip limits, CRS to WGS84), each geometry repaired or refused by row, then the layer
of that kind for the chosen street (or the whole city) replaced in one transaction, through COPY."""

from __future__ import annotations

import pandas as pd
import shapely
from django.db import connection, transaction
from django.utils.translation import gettext as _

from geodata.io import read_features
from geodata.validation import GeometryRejected, unstorable_text
from gridmap import policy
from gridmap.models import ReferenceFeature, ReferenceKind
from gridmap.services import audit
from gridmap.services.layers.city_loader import copy_frame
from gridmap.services.refused import Refused, not_found

MAX_FEATURES = 100_000
NAME_COLUMNS = ("名称", "name", "NAME", "Name", "名字")
_FAMILY = {  # the geometry family each kind must have
    ReferenceKind.ROAD: ("LineString", "MultiLineString"),
    ReferenceKind.WATER: ("Polygon", "MultiPolygon", "LineString", "MultiLineString"),
    ReferenceKind.COMPOUND: ("Polygon", "MultiPolygon"),
    ReferenceKind.BUILDING: ("Polygon", "MultiPolygon"),
}


def _street(user, street_id):
    """The street whose layer is replaced; None (the whole city) for the system admin only."""
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


def _rows(frame, kind: str, street) -> pd.DataFrame:
    """Valid geometries of the right family, with names; a row that cannot be used is refused by number.
    A street's layer keeps what lies within about 200 m of the street: it is drawn on everyone's map."""
    area = None if street is None else shapely.from_wkb(bytes(street.boundary.wkb)).buffer(0.002)
    names = next((frame[c] for c in NAME_COLUMNS if c in frame.columns), pd.Series([""] * len(frame)))
    geoms = shapely.make_valid(frame.geometry.values)
    kept = []
    for i, (geom, name) in enumerate(zip(geoms, names, strict=True), start=1):
        if geom is None or geom.is_empty or (area is not None and not area.intersects(geom)):
            continue  # nothing to draw, or not in the street
        if geom.geom_type == "GeometryCollection":  # make_valid's mixed output: keep the family's parts
            parts = [g for g in geom.geoms if g.geom_type in _FAMILY[kind]]
            geom = shapely.union_all(parts) if parts else geom
        if geom.geom_type not in _FAMILY[kind]:
            raise Refused(
                400,
                "geometry_type",
                field=f"rows[{i}]",
                detail=_("第 %(row)s 行：%(type)s 不能作为%(kind)s")
                % {"row": i, "type": geom.geom_type, "kind": ReferenceKind(kind).label},
            )
        text = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
        if reason := unstorable_text(text):
            raise Refused(400, reason, field=f"rows[{i}].name")
        kept.append((text[:100], shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)))
    if not kept:
        raise Refused(400, "no_features", field="file")
    return pd.DataFrame(kept, columns=["name", "geometry"])


@transaction.atomic
def import_reference(
    user, kind: str, data: bytes, *, street_id=None, source_crs=None, encoding=None, filename="", request=None
) -> dict:
    """Replace the ``kind`` layer of a street (or of the whole city) with the file's features."""
    if kind not in ReferenceKind.values:
        raise Refused(
            400, "bad_value", field="kind", detail=_("可选值：%(values)s") % {"values": ", ".join(ReferenceKind.values)}
        )
    if not policy.reference_streets_for(user).exists():
        raise Refused(403, "forbidden", detail=_("无权导入参考图层"))
    street = _street(user, street_id)
    try:
        frame = read_features(data, source_crs=source_crs, encoding=encoding, max_features=MAX_FEATURES)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc, "file") from None
    rows = _rows(frame, kind, street)
    replaced = ReferenceFeature.objects.filter(kind=kind, street=street).delete()[0]
    rows.insert(0, "kind", kind)
    rows["street_id"] = street.pk if street else None
    rows["source"] = (filename or "upload")[:200]
    with connection.cursor() as cursor:
        copy_frame(cursor.cursor, "gridmap_referencefeature", rows[["kind", "name", "geometry", "street_id", "source"]])
    audit.record(user, "import", "reference", kind, request=request, fields=f"rows={len(rows)} replaced={replaced}")
    return {"kind": kind, "street": street.pk if street else None, "features": len(rows), "replaced": replaced}
