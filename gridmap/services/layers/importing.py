"""Import streets, communities and service stations from a file: validated, all or nothing, audited.

Streets and communities come as polygons (GeoJSON, GeoPackage, zipped Shapefile, KML, or CSV/XLSX with a
WKT column as our exports write them); stations as points, also from CSV/XLSX with 经度/纬度 and a 坐标系. Every polygon goes through the one validator
(:func:`geodata.validation.validate_shape`, then :func:`geodata.grid_fit.fit_grid` against its parent and
its siblings, including the file's earlier rows). A row whose code (or, for stations, name within the
community) exists is an update; then the area's children must still fit inside the new boundary.

A dry run (the default) returns the preview: per row the action and the shape, and every error as
(row, field, code, reason). A real run writes everything in a few statements, or nothing when any row
has an error; it is recorded in the audit trail either way. Streets: system admin only; communities and
stations: system admin and street admins, inside their own streets (``policy.area_import_streets_for``).
"""

from __future__ import annotations

import json
import re

import shapely
from django.conf import settings
from django.db import transaction

from geodata.grid_fit import SiblingIndex, fit_grid
from geodata.topology import coverage_gaps_overlaps, geodesic_area_m2
from geodata.validation import GeometryRejected, check_near, validate_shape
from gridmap import policy
from gridmap.models import Community, Grid, GridStatus, StationKind, Street
from gridmap.services import audit
from gridmap.services.grids.shapes import to_geos
from gridmap.services.layers.rows import (
    Rows,
    column,
    forbidden,
    number_text,
    read_layer,
    text,
    unknown_layer,
)
from gridmap.services.refused import Refused

LAYERS = ("streets", "communities", "stations")
CODE = ("代码", "code", "编码")
NAME = ("名称", "name")
KIND = ("类型", "kind")
_CODE_LENGTH = {"streets": 9, "communities": 12}
_KIND_CHOICES = {
    "communities": {
        **{str(label): value for value, label in Community.Kind.choices},
        **{value: value for value in Community.Kind.values},
        "社区": "urban",
        "村": "rural",
    },
    "stations": {
        **{str(label): value for value, label in StationKind.choices},
        **{value: value for value in StationKind.values},
    },
}


@transaction.atomic
def import_layer(
    user,
    layer: str,
    data: bytes,
    *,
    dry_run: bool = True,
    source_crs: str | None = None,
    encoding: str | None = None,
    request=None,
    filename: str = "",
    progress=None,
) -> dict:
    """Preview (``dry_run``) or import ``data`` as ``layer``; raises Refused for the file, returns row errors and
    the gaps the areas leave (warnings). ``progress(done, total)`` is told how far the row checks are."""
    streets = check_rights(user, layer)
    frame = read_layer(
        data, "point" if layer == "stations" else "polygon", source_crs=source_crs, encoding=encoding, tables=True
    )
    rows = Rows()
    # Lock the streets concerned: two imports into one street must not both pass the overlap checks.
    locked = {s.code: s for s in streets.select_for_update().order_by("pk")}
    check = {"streets": _streets, "communities": _communities, "stations": _stations}[layer]
    preview, writes, gaps = check(frame, rows, locked, progress)
    result = {
        "layer": layer,
        "features": len(frame),
        "rows": preview,
        "shapes_capped": len(preview) > PREVIEW_SHAPES,
        "gaps": gaps,
        "errors": rows.errors,
        "error_count": rows.count,
        "dry_run": dry_run or bool(rows.count),
    }
    if dry_run:
        return result
    if rows.count:
        audit.record(
            user,
            "import",
            layer,
            "",
            request=request,
            fields=f"rows={len(frame)}",
            reason=filename[:200],
            result="refused",
        )
        return result
    created, updated = writes()
    result.update(created=created, updated=updated)
    audit.record(
        user,
        "import",
        layer,
        f"+{created} ~{updated}",
        request=request,
        fields=f"rows={len(frame)}",
        reason=filename[:200],
    )
    return result


def check_rights(user, layer: str):
    """The streets the user may import ``layer`` into; 404 for an unknown layer, 403 without the right."""
    if layer not in LAYERS:
        raise unknown_layer()
    streets = policy.area_import_streets_for(user)
    if layer == "streets":  # the first street of an empty installation comes this way too
        if not policy.may_import_streets(user):
            raise forbidden()
    elif not streets.exists():
        raise forbidden()
    return streets


def _geojson(geom) -> dict:
    return json.loads(shapely.to_geojson(geom))


PREVIEW_SHAPES = 50  # a preview draws the first rows' shapes; the rest are summed up (a real layer: megabytes)


def preview_shape(geom, shown: int) -> dict:
    """The row's shape for the preview map, simplified to ~1 m, for the first PREVIEW_SHAPES rows only."""
    if shown >= PREVIEW_SHAPES:
        return {}
    return {"geometry": _geojson(shapely.simplify(geom, 1e-5, preserve_topology=True))}


def _code(frame, rows: Rows, i: int, value, layer: str) -> str | None:
    code = text(number_text(value), rows, i, "code", max_length=20, required=True)
    if code is not None and not re.fullmatch(rf"[0-9]{{{_CODE_LENGTH[layer]}}}", code):
        rows.error(i, "code", "code_format", f"{_CODE_LENGTH[layer]} digits")
        return None
    return code


def _children_outside(shape, children: dict[str, shapely.Geometry]) -> list[str]:
    """Codes of the children (communities of a street, grids of a community) the new shape leaves out."""
    return [code for code, child in children.items() if geodesic_area_m2(child.difference(shape)) > 1.0]


def _shape(geos) -> shapely.Geometry:
    return shapely.from_wkb(bytes(geos.wkb))


def check_area_boundary(area: Street | Community, boundary) -> shapely.Geometry:
    """A street's or community's new boundary by this import's rules, for a form outside the import (the
    superuser's admin): a valid polygon, a community inside its street, no overlap with its siblings, its children
    (communities, live grids) still inside. Returns the fitted shape; raises Refused naming ``boundary``."""
    try:
        shape = validate_shape(_shape(boundary))
        if isinstance(area, Community):
            parent = _shape(area.street.boundary)
            check_near(shape, parent.bounds)
            siblings = Community.objects.filter(street_id=area.street_id)
            children = Grid.objects.filter(community=area).exclude(status=GridStatus.RETIRED)
        else:
            parent, siblings, children = shape, Street.objects.all(), Community.objects.filter(street=area)
        others = {o.code: _shape(o.boundary) for o in siblings.exclude(pk=area.pk)}
        fit = fit_grid(shape, parent, others)
    except GeometryRejected as exc:
        if exc.code == "outside_community":
            exc.code = "outside_street"
        raise Refused.from_geometry(exc, "boundary") from None
    outside = _children_outside(fit.geometry, {c.code: _shape(c.boundary) for c in children})
    if outside:
        raise Refused(400, "children_outside", field="boundary", detail=", ".join(outside[:10]))
    return fit.geometry


def _areas(frame, rows: Rows, layer: str, parent_of, siblings_of, children_of, existing, progress=None):
    """The shared rule for streets and communities: code, name, shape fitted into parent and siblings."""
    code_col, name_col = column(frame, *CODE), column(frame, *NAME)
    kind_col = column(frame, *KIND) if layer == "communities" else None
    if code_col is None or name_col is None:
        rows.error(1, "code" if code_col is None else "name", "column_missing", "代码/code, 名称/name")
        return [], []
    accepted, preview, seen = [], [], {}
    total = len(frame)
    step = max(1, total // 50)  # progress about every 2 %
    for n, (record, geom) in enumerate(zip(frame.to_dict("records"), frame.geometry.values)):
        i = int(record["_row"])
        code = _code(frame, rows, i, record[code_col], layer)
        name = text(record[name_col], rows, i, "name", max_length=100, required=True)
        kind = None
        if layer == "communities" and code is not None:
            kind = _kind(record.get(kind_col), code, rows, i)
        if code is None or name is None or (layer == "communities" and kind is None):
            continue
        if code in seen:
            rows.error(i, "code", "duplicate_code", f"row {seen[code]}")
            continue
        seen[code] = i
        parent = parent_of(code)
        if parent is False:
            rows.error(i, "code", "street_not_in_scope", code[:9])
            continue
        try:
            shape = validate_shape(geom)
            if layer == "communities":
                check_near(shape, parent[1].bounds)
            fit = fit_grid(shape, parent[1] if parent else shape, siblings_of(code))
        except GeometryRejected as exc:
            overlap = "overlaps_streets" if layer == "streets" else "overlaps_communities"
            rows.geometry_error(i, exc, {"outside_community": "outside_street", "overlaps_siblings": overlap}, seen)
            continue
        outside = _children_outside(fit.geometry, children_of(code))
        if outside:
            rows.error(i, "geometry", "children_outside", ", ".join(outside[:10]))
            continue
        siblings_of.add(code, fit.geometry)
        action = "update" if code in existing else "create"
        accepted.append((code, name, kind, parent, fit.geometry))
        preview.append({"row": i, "code": code, "name": name, "action": action,
                        "area_m2": round(geodesic_area_m2(fit.geometry), 1),
                        "vertices": int(shapely.get_num_coordinates(fit.geometry)),
                        **preview_shape(fit.geometry, len(preview))})  # fmt: skip
        if progress is not None and (n + 1) % step == 0:
            progress(n + 1, total)
    return accepted, preview


def _kind(value, code: str, rows: Rows, i: int) -> str | None:
    raw = "" if value is None or value != value else str(value).strip()
    if not raw:  # docs/domain.md: village part 001–199 居委会 (urban), 200–399 村委会 (rural)
        village = int(code[9:12])
        if not 1 <= village <= 399:
            rows.error(i, "code", "code_village_part", code[9:12])
            return None
        return "urban" if village <= 199 else "rural"
    kind = _KIND_CHOICES["communities"].get(raw)
    if kind is None:
        rows.error(i, "kind", "bad_kind", raw[:20])
    return kind


class _Siblings:
    """The shapes an area must not overlap: stored siblings (same parent, other code) and earlier rows, one
    spatial index per parent (geodata.grid_fit.SiblingIndex)."""

    def __init__(self, stored: dict[str, tuple[str, shapely.Geometry]]):
        self.by_parent: dict[str, SiblingIndex] = {}
        for code, (key, shape) in stored.items():
            self.by_parent.setdefault(key, SiblingIndex()).add(code, shape)

    def __call__(self, code: str) -> SiblingIndex:
        return self.by_parent.setdefault(self.key(code), SiblingIndex()).excluding(code)

    def add(self, code: str, shape) -> None:
        self.by_parent.setdefault(self.key(code), SiblingIndex()).add(code, shape)

    def key(self, code: str) -> str:
        return code[:9] if len(code) == 12 else ""


def _streets(frame, rows: Rows, locked: dict, progress=None):
    stored = {s.code: s for s in Street.objects.all()}
    siblings = _Siblings({c: ("", _shape(s.boundary)) for c, s in stored.items()})
    children: dict[str, dict] = {}
    for street_code, code, boundary in Community.objects.values_list("street__code", "code", "boundary"):
        children.setdefault(street_code, {})[code] = _shape(boundary)
    accepted, preview = _areas(
        frame, rows, "streets", lambda code: None, siblings, lambda code: children.get(code, {}), stored, progress
    )
    everything = list(siblings.by_parent.get("", {}).values())
    union = shapely.union_all(everything) if everything else None
    filled = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(union)]) if union else None
    gaps = area_gaps({"": filled} if filled is not None else {}, siblings) if accepted else []

    def write():
        new = [Street(code=c, name=n, boundary=to_geos(g)) for c, n, _, _, g in accepted if c not in stored]
        changed = []
        for c, n, _, _, g in accepted:
            if c in stored:
                stored[c].name, stored[c].boundary = n, to_geos(g)
                changed.append(stored[c])
        Street.objects.bulk_create(new)
        Street.objects.bulk_update(changed, ["name", "boundary"])
        return len(new), len(changed)

    return preview, write, gaps


def _communities(frame, rows: Rows, locked: dict, progress=None):
    parents = {code: (street, _shape(street.boundary)) for code, street in locked.items()}
    stored = {c.code: c for c in Community.objects.filter(street__in=[s for s, _ in parents.values()])}
    siblings = _Siblings({c: (c[:9], _shape(obj.boundary)) for c, obj in stored.items()})
    children = {}
    for community_code, grid_code, boundary in (
        Grid.objects.filter(community__in=stored.values())
        .exclude(status=GridStatus.RETIRED)
        .values_list("community__code", "code", "boundary")
    ):
        children.setdefault(community_code, {})[grid_code] = _shape(boundary)
    taken = set(Community.objects.exclude(pk__in=[c.pk for c in stored.values()]).values_list("code", flat=True))
    accepted, preview = _areas(
        frame,
        rows,
        "communities",
        lambda code: parents.get(code[:9], False) if code not in taken else False,
        siblings,
        lambda code: children.get(code, {}),
        stored,
        progress,
    )
    touched = {code[:9] for code, *_ in accepted}
    gaps = area_gaps({key: parents[key][1] for key in touched if key in parents}, siblings)

    def write():
        new, changed = [], []
        for c, n, kind, (street, _), g in accepted:
            if c in stored:
                obj = stored[c]
                obj.name, obj.kind, obj.boundary = n, kind, to_geos(g)
                changed.append(obj)
            else:
                new.append(Community(code=c, name=n, kind=kind, street=street, boundary=to_geos(g)))
        Community.objects.bulk_create(new)
        Community.objects.bulk_update(changed, ["name", "kind", "boundary"])
        return len(new), len(changed)

    return preview, write, gaps


def _stations(frame, rows: Rows, locked: dict, progress=None):
    from gridmap.services.stations.rows import check_stations

    preview, write = check_stations(
        frame, rows, locked, default_radius=settings.STATION_RADIUS_M, kinds=_KIND_CHOICES["stations"]
    )
    return preview, write, []


MAX_GAPS = 50


def area_gaps(parents: dict[str, shapely.Geometry], siblings: _Siblings) -> list[dict]:
    """Where the areas leave their parent uncovered (communities: parts of the street; streets: holes inside the
    streets' union), as warnings: the parent's code, the gap's area and a point inside it. A gap may be meant
    (a lake, a military area), so the import goes on."""
    out = []
    for key, parent in parents.items():
        shapes = list(siblings.by_parent.get(key, {}).values())
        try:
            report = coverage_gaps_overlaps(parent, shapes)
        except ValueError:  # a stored area that is not valid: the validator reports its own row
            continue
        for gap, area in report.gaps[:MAX_GAPS]:
            at = gap.representative_point()
            out.append({"parent": key, "area_m2": round(area, 1), "location": [round(at.x, 6), round(at.y, 6)]})
    return out[:MAX_GAPS]
