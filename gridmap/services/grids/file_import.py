"""Import grids of one community from a file (GeoJSON, GeoPackage, zipped Shapefile, KML) as drafts.

Every feature goes through the same validator as a drawn grid, fitted against the community's working
grids *and the file's earlier features*, so a file whose grids overlap each other is refused too. All or
nothing: a dry run (the default) returns the preview; a real run writes every feature as a draft grid in
one statement, or nothing when any row has an error (row numbers are 1-based, as in a GIS table view).
"""

from __future__ import annotations

import json

import shapely
from django.db import connection, transaction

from geodata.grid_fit import SiblingIndex, fit_grid
from geodata.io import read_polygon_file
from geodata.validation import GeometryRejected, check_near, validate_shape
from gridmap.services.grids.editing import lock_community, new_drafts, summary
from gridmap.services.grids.shapes import to_geos, working_siblings
from gridmap.services.refused import Refused

MAX_ERRORS = 1000
SHOWN = 50  # rows whose shape the preview draws (~1 m simplified); a real file's every shape is megabytes
NAME_COLUMNS = ("name", "名称", "NAME", "Name", "网格名称")


@transaction.atomic
def import_grids(
    user,
    community_id: int,
    data: bytes,
    *,
    dry_run: bool = True,
    source_crs: str | None = None,
    encoding: str | None = None,
    progress=None,
) -> dict:
    """Preview (``dry_run``) or import a file of grids; ``progress(done, total)`` hears how far the checks are."""
    community = lock_community(user, community_id)
    try:
        frame = read_polygon_file(data, source_crs=source_crs, encoding=encoding)
    except GeometryRejected as exc:
        raise Refused.from_geometry(exc) from None
    names = next((frame[c] for c in NAME_COLUMNS if c in frame.columns), None)
    parent = shapely.from_wkb(bytes(community.boundary.wkb))
    siblings = SiblingIndex(working_siblings(community))  # grows with the file's rows
    rows, errors, accepted = [], [], []
    total = len(frame)
    step = max(1, total // 50)  # progress about every 2 %
    for i, geom in enumerate(frame.geometry.values, start=1):
        if progress is not None and i % step == 0:
            progress(i, total)
        name = str(names.iloc[i - 1])[:100].strip() if names is not None and names.iloc[i - 1] else None
        try:
            shape = validate_shape(geom)
            check_near(shape, community.street.boundary.extent)
            fit = fit_grid(shape, parent, siblings)
        except GeometryRejected as exc:
            error = Refused.from_geometry(exc, "geometry")
            errors.append({"row": i, **error.as_json()})
            rows.append(
                {
                    "row": i,
                    "name": name,
                    "error": error.message,
                    "geometry": _geojson(geom)
                    if geom is not None and not geom.is_empty and len(rows) < SHOWN
                    else None,
                }
            )
            if len(errors) >= MAX_ERRORS:
                break
            continue
        siblings.add(f"row {i}", fit.geometry)  # later rows must not overlap this one either
        accepted.append((name, to_geos(fit.geometry)))
        rows.append({"row": i, "name": name, **({"geometry": _geojson(shapely.simplify(fit.geometry, 1e-5))}
                                                 if len(rows) < SHOWN else {})})  # fmt: skip
    counts = iter(_household_counts([g for _, g in accepted]))
    for row in rows:
        if "error" not in row:
            row["households"] = next(counts)
    result = {"features": len(rows), "errors": errors, "rows": rows, "dry_run": dry_run or bool(errors),
              "shapes_capped": len(rows) > SHOWN}  # fmt: skip
    if dry_run or errors:
        return result
    grids = new_drafts(community, [g for _, g in accepted], user, [n for n, _ in accepted])
    result["created"] = [summary(g) for g in grids]
    return result


def _household_counts(shapes: list) -> list[int]:
    """Households inside each shape, one statement for the whole file."""
    if not shapes:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM gridmap_household h WHERE ST_Intersects(h.location, ST_GeomFromEWKB(t.g)))
              FROM unnest(%s::bytea[]) WITH ORDINALITY AS t(g, i) ORDER BY t.i""",
            [[memoryview(s.ewkb) for s in shapes]],
        )
        return [row[0] for row in cursor.fetchall()]


def _geojson(geom: shapely.Geometry) -> dict:
    return json.loads(shapely.to_geojson(shapely.force_2d(geom)))
