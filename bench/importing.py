"""Bulk import of households from a CSV file, end to end, against the raw COPY pipeline.

Every run imports the whole city's households into an emptied household table: TRUNCATE inside a
transaction that is rolled back after the clock stops (PostgreSQL restores the old table files, so the
city is intact for the next run and the next workload). The deferred foreign-key checks a COMMIT would
run are forced inside the timed part; only the final WAL flush of a real COMMIT is not measured.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
from django.db import connection, transaction

from bench.harness import Results, Row, measure

HEADER = ["经度", "纬度", "地址", "户主", "电话", "身份证号", "人数", "外部编号"]

# Anchor (raw COPY pipeline): PostgreSQL parses the file itself into an index-free temporary table
# that computes each point as it arrives, one GiST index on the points, then one INSERT ... SELECT that
# finds grid and community driven from the polygons (lowest code first on shared edges) and writes
# every household; ANALYZE. No validation and no coordinate conversion: PostGIS cannot undo GCJ-02,
# so this anchor reads the WGS84 file.
RAW_STAGING = """
CREATE TEMP TABLE raw_import (lon float8, lat float8, address text, head_name text, phone text, id_number text,
    residents integer, external_id text, id integer GENERATED ALWAYS AS IDENTITY,
    location geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED
) ON COMMIT DROP
"""
RAW_COPY = (
    "COPY raw_import (lon, lat, address, head_name, phone, id_number, residents, external_id) "
    "FROM STDIN WITH (FORMAT csv, HEADER true)"
)
RAW_INDEX = "CREATE INDEX ON raw_import USING gist (location); ANALYZE raw_import"
RAW_INSERT = """
INSERT INTO gridmap_household (external_id, location, community_id, grid_id, address, head_name,
    residents, resident_type, is_party_member, elderly_alone, disabled, low_income, hardship, military,
    other_difficulty, source_crs, updated_at)
SELECT r.external_id, r.location, cc.community_id, gg.grid_id, r.address, r.head_name,
       coalesce(r.residents, 1), 'permanent', FALSE, FALSE, FALSE, FALSE, FALSE, FALSE,
       FALSE, 'WGS84', now()  -- phone/ID number not stored: the anchor does not seal (gridmap.storage.sealed_fields)
  FROM raw_import r
  LEFT JOIN (SELECT DISTINCT ON (x.id) x.id, g.id AS grid_id
               FROM gridmap_grid g
              CROSS JOIN LATERAL (SELECT r2.id FROM raw_import r2 WHERE ST_Covers(g.boundary, r2.location) OFFSET 0) x
              WHERE g.status = 'published' ORDER BY x.id, g.code) gg ON gg.id = r.id
  LEFT JOIN (SELECT DISTINCT ON (x.id) x.id, c.id AS community_id
               FROM gridmap_community c
              CROSS JOIN LATERAL (SELECT r2.id FROM raw_import r2 WHERE ST_Covers(c.boundary, r2.location) OFFSET 0) x
              ORDER BY x.id, c.code) cc ON cc.id = r.id
 ORDER BY r.id;
ANALYZE gridmap_household
"""


def write_files(city, directory: Path) -> dict[str, Path]:
    """The city's households as two CSV files (WGS84 and GCJ-02), as a street office would export them."""
    from geodata.crs import from_wgs84

    h = city.households
    lon, lat = h.geometry.x.to_numpy(), h.geometry.y.to_numpy()
    frame = pd.DataFrame(
        {
            "经度": lon.round(7),
            "纬度": lat.round(7),
            "地址": h["address"],
            "户主": h["head_name"],
            "电话": h["phone"],
            "身份证号": h["id_number"],
            "人数": h["residents"],
            "外部编号": "I-" + h["hid"].astype(str),
        }
    )
    paths = {"WGS84": directory / "households_wgs84.csv", "GCJ02": directory / "households_gcj02.csv"}
    frame.to_csv(paths["WGS84"], index=False, quoting=csv.QUOTE_MINIMAL)
    gcj_lon, gcj_lat = from_wgs84(frame["经度"].to_numpy(), frame["纬度"].to_numpy(), "GCJ02")
    frame.assign(经度=gcj_lon.round(9), 纬度=gcj_lat.round(9)).to_csv(paths["GCJ02"], index=False)
    return paths


class _EmptiedTable:
    """setup: BEGIN and TRUNCATE the households (and the rows that point at them); teardown: ROLLBACK."""

    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE gridmap_household CASCADE")

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)


def _raw_pipeline(path: Path, *, indexes_after: bool) -> None:
    from contextlib import nullcontext

    from gridmap.storage.bulk import indexes_built_after

    with connection.cursor() as cursor:
        cursor.execute(RAW_STAGING)
        with open(path, "rb") as fh:
            cursor.cursor.copy_expert(RAW_COPY, fh)
        cursor.execute(RAW_INDEX)
        # the index and key DDL is the catalog's own (the same helper the project uses)
        with indexes_built_after("gridmap_household") if indexes_after else nullcontext():
            cursor.execute(RAW_INSERT)
        cursor.execute("DROP TABLE raw_import")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def run(results: Results, city, *, households: int, repeat: int, full: bool, naive_sample: int) -> None:
    from gridmap.services.households.importing import import_households_csv

    directory = Path(tempfile.mkdtemp(prefix="gridmap-bench-"))
    paths = write_files(city, directory)
    work = "bulk import of households from CSV"
    table = _EmptiedTable()
    anchor = "anchor: raw COPY → staging, one INSERT … SELECT with the grid join, indexes after"
    results.add(
        Row(
            work,
            anchor,
            "anchor",
            households,
            *measure(
                lambda: _raw_pipeline(paths["WGS84"], indexes_after=True),
                repeat=repeat,
                setup=table.setup,
                teardown=table.teardown,
            ),
            None,
            2,
            note="WGS84 file, no validation or conversion",
        )
    )
    if full:
        results.add(
            Row(
                work,
                "anchor: the same into the indexed table (indexes and keys kept)",
                "anchor",
                households,
                *measure(
                    lambda: _raw_pipeline(paths["WGS84"], indexes_after=False),
                    repeat=repeat,
                    setup=table.setup,
                    teardown=table.teardown,
                ),
                None,
                2,
                note="index upkeep and a key check per row",
            )
        )
    outcome = {}

    def project(crs: str):
        def call():
            outcome[crs] = import_households_csv(paths[crs], source_crs=crs)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        return call

    for crs in ["GCJ02", "WGS84"] if full else ["GCJ02"]:
        samples, peak = measure(project(crs), repeat=repeat, setup=table.setup, teardown=table.teardown)
        result = outcome[crs]
        assert result.ok and result.imported == households, result.errors[:3]
        results.add(
            Row(
                work,
                f"project: import_households_csv({crs} file)",
                "project",
                households,
                samples,
                peak,
                anchor,
                2,
                note=f"validation, {'GCJ-02 → WGS84, ' if crs == 'GCJ02' else ''}grid and "
                f"community, sealing, COPY, indexes; {result.in_grid:,} in a grid",
            )
        )
    sample = _naive_rows(paths["WGS84"], naive_sample)
    results.add(
        Row(
            work,
            "naive: csv.reader loop, a Grid query and Household.save() per row",
            "naive",
            households,
            *measure(lambda: _naive_import(sample), repeat=repeat, teardown=_naive_cleanup),
            anchor,
            2,
            note="autocommit",
            extrapolated={"sample": len(sample), "to": households},
        )
    )
    for path in paths.values():
        path.unlink()
    directory.rmdir()


def _naive_rows(path: Path, n: int) -> list[list[str]]:
    with open(path, encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [row for _, row in zip(range(n), reader)]


def _naive_import(rows: list[list[str]]) -> None:
    """What a first version does: parse, look the grid up, save, one row at a time."""
    from django.contrib.gis.geos import Point

    from gridmap.models import Community, Grid, GridStatus, Household

    for lon, lat, address, head, phone, id_number, residents, external in rows:
        point = Point(float(lon), float(lat), srid=4326)
        Household(
            location=point,
            address=address,
            head_name=head,
            phone=phone,
            id_number=id_number,
            residents=int(residents or 1),
            external_id="naive-" + external,
            grid=Grid.objects.filter(status=GridStatus.PUBLISHED, boundary__covers=point).order_by("code").first(),
            community=Community.objects.filter(boundary__covers=point).order_by("code").first(),
        ).save()


def _naive_cleanup() -> None:
    from gridmap.models import Household

    Household.objects.filter(external_id__startswith="naive-").delete()


WEB_ROWS = 10_000


def run_web_upload(results: Results, street_admin, *, repeat: int) -> None:
    """10,000 households uploaded by a street admin through the web path (upload → dry-run preview →
    commit, both requests through Django's full middleware stack), beside the import core called
    directly on the same file with the same scope. Every run is rolled back afterwards."""
    import io

    from django.test import Client

    from gridmap import policy
    from gridmap.services.households.importing import import_households

    sample = policy.households_for(street_admin).order_by("id")[:WEB_ROWS]
    frame = pd.DataFrame(
        [
            {
                "经度": round(h.location.x, 7),
                "纬度": round(h.location.y, 7),
                "地址": h.address,
                "户主": h.head_name,
                "电话": h.phone,
                "身份证号": "",
                "人数": h.residents,
                "外部编号": f"WEB-{i}",
            }
            for i, h in enumerate(sample)
        ]
    )
    data = frame.to_csv(index=False).encode("utf-8")
    communities = list(policy.household_import_communities_for(street_admin).values_list("pk", flat=True))
    work = f"upload {len(frame):,} households through the web path"
    rollback = _RolledBack()
    anchor = "anchor: import_households() called directly, same file and scope"
    results.add(
        Row(
            work,
            anchor,
            "anchor",
            len(frame),
            *measure(
                lambda: import_households(data, source_crs="WGS84", communities=communities),
                repeat=repeat,
                setup=rollback.setup,
                teardown=rollback.teardown,
            ),
            None,
            2,
            note="commit only, no preview",
        )
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(street_admin)

    def web():
        file = io.BytesIO(data)
        file.name = "households.csv"
        preview = client.post("/api/v1/household-imports/", {"file": file, "source_crs": "WGS84"})
        assert preview.status_code == 200, preview.content[:300]
        job = preview.json()
        done = client.post(f"/api/v1/household-imports/{job['id']}/commit", headers={"If-Match": job["etag"]})
        assert done.status_code == 201 and done.json()["counts"]["new"] == len(frame), done.content[:300]

    results.add(
        Row(
            work,
            "project: POST /api/v1/household-imports/ (dry-run preview) + POST …/commit",
            "project",
            len(frame),
            *measure(web, repeat=repeat, setup=rollback.setup, teardown=rollback.teardown),
            anchor,
            2,
            note="target ≤ 10 s; two requests, each a full import (the preview rolls back)",
        )
    )


class _RolledBack:
    """setup: BEGIN; teardown: ROLLBACK (the households, jobs and audit rows of the run disappear)."""

    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
