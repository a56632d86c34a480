"""Exports (issue #7): a street admin's households as CSV, GeoPackage and XLSX through
``services.exports.export_layer`` (scope, masking, writer, audit row), beside anchors measured in the same run.

Rows:
- anchor (CSV): PostgreSQL ``COPY (SELECT …) TO STDOUT WITH CSV`` of the same rows and columns, unmasked,
  into a temporary file: the floor for getting these rows out of the database as text.
- anchor (GeoPackage): the same SELECT read with psycopg2, geometries built with ``shapely.from_wkb`` and the
  GeoDataFrame written by ``geopandas.to_file`` (pyogrio): the plain geopandas way.
- project: ``export_layer(street_admin, "households", fmt)`` and reading the streamed file to its end.

``run(results)`` expects Django set up on a loaded bench database (it is one of ``bench/__main__``'s EXTRA
modules). Alone: ``DATABASE_URL=postgis://…/<yourdb> .venv/bin/python -m bench.exports --households 10000``
(recreates ``<yourdb>_bench``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

WORKLOAD = "export a street admin's households ({fmt})"


def _project(user, fmt: str):
    from gridmap.services.layers.exports import export_layer

    def go():
        result = export_layer(user, "households", fmt)
        with result.file as handle:
            while handle.read(1 << 20):
                pass
        return result.rows

    return go


def _anchor_sql(user) -> tuple[str, list]:
    from gridmap import policy
    from gridmap.queries.exports import EXPORT_SQL

    ids_sql, params = policy.households_for(user).order_by().values("id").query.sql_with_params()
    return EXPORT_SQL["households"].format(ids=ids_sql), list(params)


def _copy_anchor(user):
    from django.db import connection

    sql, params = _anchor_sql(user)

    def go():
        with connection.cursor() as cursor, tempfile.TemporaryFile() as out:
            query = cursor.mogrify(
                sql.replace("ST_AsBinary(h.location)", "ST_X(h.location), ST_Y(h.location)"), params
            ).decode()
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH CSV HEADER", out)

    return go


def _geopandas_anchor(user):
    import geopandas as gpd
    import shapely
    from django.db import connection

    sql, params = _anchor_sql(user)
    names = [
        "id",
        "ext_id",
        "address",
        "head_name",
        "phone",
        "id_number",
        "residents",
        "res_type",
        "party",
        "elderly",
        "disabled",
        "low_income",
        "hardship",
        "military",
        "other_diff",
        "grid_code",
        "comm_code",
        "src_crs",
    ]

    def go():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        frame = gpd.GeoDataFrame(
            {n: [r[i] for r in rows] for i, n in enumerate(names)},
            geometry=shapely.from_wkb([bytes(r[-1]) for r in rows]),
            crs=4326,
        )
        with tempfile.TemporaryDirectory() as folder:
            frame.to_file(Path(folder) / "h.gpkg", driver="GPKG", engine="pyogrio")

    return go


def run(results, repeat: int = 5) -> None:
    from django.contrib.auth import get_user_model

    from bench.harness import Row, measure
    from gridmap import policy

    user = get_user_model().objects.get(username="jiedao")
    n = policy.households_for(user).count()
    for fmt, anchor_name, anchor in (
        ("csv", "anchor: COPY … TO STDOUT WITH CSV", _copy_anchor(user)),
        ("gpkg", "anchor: psycopg2 + shapely.from_wkb + geopandas.to_file", _geopandas_anchor(user)),
        ("xlsx", None, None),
    ):
        workload = WORKLOAD.format(fmt=fmt)
        if anchor is not None:
            samples, peak = measure(anchor, repeat=repeat)
            results.add(Row(workload, anchor_name, "anchor", n, samples, peak))
        samples, peak = measure(_project(user, fmt), repeat=repeat)
        results.add(
            Row(
                workload,
                f"project: services.exports.export_layer(..., {fmt!r})",
                "project",
                n,
                samples,
                peak,
                anchor=anchor_name,
                note="masked, scoped, one audit row per run"
                + ("" if anchor else "; no anchor: openpyxl write-only is the writer itself"),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    args = parser.parse_args()
    from bench.database import describe_machine, prepare_city

    prepare_city(args.households)
    from gridmap.services.accounts.demo_accounts import ensure_demo_accounts

    ensure_demo_accounts("bench-only-password")
    from bench.harness import Results

    grids = max(args.households // 500, 5)
    results = Results(
        f"exports_{args.households}",
        describe_machine(),
        {
            "households": args.households,
            "grids": grids,
            "stations": 20,
            "seed": 20261122,
            "repeat": 5,
            "families": ["exports"],
        },
    )
    run(results)
    for row in results.rows:
        ratio = results.ratio(row)
        print(
            f"{row.workload} | {row.approach} | items {row.items} | median {row.median:.3f} s"
            f" | peak py {row.peak_py_mb} MB" + (f" | ratio {ratio:.2f}" if ratio else "")
        )
    results.write()


if __name__ == "__main__":
    main()
