"""Load a synthetic (or any prepared) city into the database in one transaction, through COPY."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from django.db import connection, transaction

from gridmap.models.areas import GridStatus
from gridmap.models.households import DETAIL_FIELDS
from gridmap.rules.sql import literal
from gridmap.services.grids.rehoming import rehome_households
from gridmap.services.people.members import refresh_initials
from gridmap.storage import sealed_fields

PUBLISHED = literal(GridStatus.PUBLISHED)

if TYPE_CHECKING:
    from geodata.synth import City


def copy_frame(cursor, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into ``table`` (its columns, in order). Text is CSV-quoted; NULL is empty."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _text(column: pd.Series):
    return np.strings.upper(np.strings.strip(np.asarray(column.fillna(""), dtype=np.dtypes.StringDType())))


def _ewkb_hex(geoseries) -> list[str]:
    geoms = shapely.set_srid(shapely.force_2d(geoseries.values), 4326)
    return shapely.to_wkb(geoms, hex=True, include_srid=True).tolist()


def _multi(geoseries):
    return geoseries.apply(lambda g: shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g)


# Staging tables are temporary and index-free (CSV COPY reads an empty field as NULL, hence the
# coalesce() on optional text below); the INSERT ... SELECT statements below turn codes and
# synthetic row numbers into foreign keys in one pass each.
_STAGING = """
CREATE TEMP TABLE stage_area (kind text, code text, name text, parent text, wkb text) ON COMMIT DROP;
CREATE TEMP TABLE stage_household (hid bigint, lon float8, lat float8, address text, head_name text, residents int,
    resident_type text, is_party_member bool, elderly_alone bool, disabled bool,
    low_income bool, hardship bool, military bool, other_difficulty bool, external_id text) ON COMMIT DROP;
CREATE TEMP TABLE stage_station (name text, kind text, lon float8, lat float8, radius_m int, opening_hours text,
    services text, community_code text) ON COMMIT DROP;
CREATE TEMP TABLE stage_member (mid bigint, name text, is_party_member bool, employer text,
    community_code text) ON COMMIT DROP;
CREATE TEMP TABLE stage_assignment (mid bigint, grid_code text, role text, start_date date) ON COMMIT DROP;
CREATE TEMP TABLE stage_link (central_hid bigint, linked_hid bigint) ON COMMIT DROP;
CREATE TEMP TABLE stage_help (hid bigint, mid bigint, unit text) ON COMMIT DROP;
"""

_INSERTS = f"""
INSERT INTO gridmap_street (code, name, boundary)
SELECT code, name, ST_Multi(wkb::geometry) FROM stage_area WHERE kind = 'street';
INSERT INTO gridmap_community (code, name, street_id, kind, boundary)
SELECT a.code, a.name, s.id, 'urban', ST_Multi(a.wkb::geometry)
  FROM stage_area a JOIN gridmap_street s ON s.code = a.parent WHERE a.kind = 'community';
INSERT INTO gridmap_grid (code, name, community_id, boundary, status, version, updated_at)
SELECT a.code, a.name, c.id, ST_Multi(a.wkb::geometry), {PUBLISHED}, 1, now()
  FROM stage_area a JOIN gridmap_community c ON c.code = a.parent WHERE a.kind = 'grid';
INSERT INTO gridmap_gridversion (grid_id, number, boundary, status, reason, created_at)
SELECT g.id, 1, g.boundary, {PUBLISHED}, '初始划分', now()
  FROM gridmap_grid g JOIN stage_area a ON a.code = g.code AND a.kind = 'grid';

-- Households get their ids up front so that links and help pairs can refer to them by row number.
CREATE TEMP TABLE household_ids ON COMMIT DROP AS
SELECT hid, nextval(pg_get_serial_sequence('gridmap_household', 'id')) AS id FROM stage_household;
-- Phones and ID numbers arrive sealed (sealed_fields.stage): no plaintext, not even in a temporary table.
INSERT INTO gridmap_household (id, external_id, location, address, head_name, phone_sealed, phone_digest,
    phone_masked, id_number_sealed, id_number_digest, id_number_masked, residents,
    resident_type, is_party_member, elderly_alone, disabled, low_income, hardship, military, other_difficulty,
    source_crs, updated_at)
SELECT i.id, s.external_id, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.address, s.head_name,
       p.sealed, p.digest, coalesce(p.masked, ''), n.sealed, n.digest, coalesce(n.masked, ''),
       s.residents, s.resident_type, s.is_party_member, s.elderly_alone, s.disabled, s.low_income,
       s.hardship, s.military, s.other_difficulty, 'WGS84', now()
  FROM stage_household s JOIN household_ids i USING (hid)
  LEFT JOIN stage_household_phone p ON p.key = s.hid LEFT JOIN stage_household_id_number n ON n.key = s.hid;

INSERT INTO gridmap_servicestation (name, kind, location, radius_m, community_id, opening_hours, services, active)
SELECT s.name, s.kind, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), s.radius_m, c.id,
       coalesce(s.opening_hours, ''), coalesce(s.services, ''), TRUE
  FROM stage_station s LEFT JOIN gridmap_community c ON c.code = s.community_code;

CREATE TEMP TABLE member_ids ON COMMIT DROP AS
SELECT mid, nextval(pg_get_serial_sequence('gridmap_member', 'id')) AS id FROM stage_member;
INSERT INTO gridmap_member (id, name, phone_sealed, phone_digest, phone_masked, is_party_member, employer,
    community_id)
SELECT i.id, m.name, p.sealed, p.digest, coalesce(p.masked, ''), m.is_party_member, coalesce(m.employer, ''), c.id
  FROM stage_member m JOIN member_ids i USING (mid) LEFT JOIN gridmap_community c ON c.code = m.community_code
  LEFT JOIN stage_member_phone p ON p.key = m.mid;
INSERT INTO gridmap_gridassignment (member_id, grid_id, role, start_date)
SELECT i.id, g.id, a.role, a.start_date
  FROM stage_assignment a JOIN member_ids i USING (mid) JOIN gridmap_grid g ON g.code = a.grid_code;

INSERT INTO gridmap_centralhousehold (household_id, active, designated_on)
SELECT DISTINCT i.id, TRUE, current_date FROM stage_link l JOIN household_ids i ON i.hid = l.central_hid;
INSERT INTO gridmap_centrallink (central_id, household_id, linked_on)
SELECT c.id, li.id, current_date
  FROM stage_link l
  JOIN household_ids ci ON ci.hid = l.central_hid
  JOIN gridmap_centralhousehold c ON c.household_id = ci.id
  JOIN household_ids li ON li.hid = l.linked_hid;
INSERT INTO gridmap_helppair (household_id, member_id, unit, start_date)
SELECT hi.id, mi.id, coalesce(h.unit, ''), current_date
  FROM stage_help h JOIN household_ids hi USING (hid) LEFT JOIN member_ids mi ON mi.mid = h.mid;
"""


def _areas(city: City) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "kind": "street",
                "code": city.streets["code"],
                "name": city.streets["name"],
                "parent": "",
                "wkb": _ewkb_hex(_multi(city.streets.geometry)),
            }
        ),
        pd.DataFrame(
            {
                "kind": "community",
                "code": city.communities["code"],
                "name": city.communities["name"],
                "parent": city.communities["street_code"],
                "wkb": _ewkb_hex(_multi(city.communities.geometry)),
            }
        ),
        pd.DataFrame(
            {
                "kind": "grid",
                "code": city.grids["code"],
                "name": city.grids["name"],
                "parent": city.grids["community_code"],
                "wkb": _ewkb_hex(_multi(city.grids.geometry)),
            }
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _households(city: City) -> pd.DataFrame:
    h = city.households
    frame = pd.DataFrame({"hid": h["hid"], "lon": h.geometry.x.round(7), "lat": h.geometry.y.round(7)})
    for column in DETAIL_FIELDS:
        frame[column] = h[column]
    street = h["community_code"].str[:9]
    frame["external_id"] = street + "-" + h["hid"].astype(str).str.zfill(7)
    return frame


def _stations(city: City) -> pd.DataFrame:
    s = city.stations
    return pd.DataFrame(
        {
            "name": s["name"],
            "kind": s["kind"],
            "lon": s.geometry.x.round(7),
            "lat": s.geometry.y.round(7),
            "radius_m": s["radius_m"],
            "opening_hours": s["opening_hours"],
            "services": s["services"],
            "community_code": s["community_code"],
        }
    )


@transaction.atomic
def load_city(city: City) -> dict[str, int]:
    """Insert every layer of ``city``; all or nothing. Returns row counts per table."""
    with connection.cursor() as cursor:
        cursor.execute(_STAGING)
        raw = cursor.cursor  # psycopg2 cursor, for COPY
        copy_frame(raw, "stage_area", _areas(city))
        copy_frame(raw, "stage_household", _households(city))
        h, m = city.households, city.members
        for kind in ("phone", "id_number"):  # sealed vectorised before COPY (gridmap.storage.sealed_fields)
            sealed_fields.stage(raw, f"stage_household_{kind}", h["hid"].to_numpy(), _text(h[kind]), kind)
        sealed_fields.stage(raw, "stage_member_phone", m["mid"].to_numpy(), _text(m["phone"]), "phone")
        copy_frame(raw, "stage_station", _stations(city))
        copy_frame(raw, "stage_member", city.members[["mid", "name", "is_party_member", "employer", "community_code"]])
        copy_frame(raw, "stage_assignment", city.assignments[["mid", "grid_code", "role", "start_date"]])
        copy_frame(raw, "stage_link", city.central_links[["central_hid", "linked_hid"]])
        copy_frame(raw, "stage_help", city.help_pairs[["hid", "mid", "unit"]])
        cursor.execute(_INSERTS)
        if city.reference is not None:  # reference layers straight into their table: no keys to resolve
            reference = pd.DataFrame(
                {
                    "kind": city.reference["kind"],
                    "name": city.reference["name"],
                    "geometry": _ewkb_hex(city.reference.geometry),
                    "source": "synthetic",
                }
            )
            copy_frame(raw, "gridmap_referencefeature", reference)
        cursor.execute("ANALYZE gridmap_household; ANALYZE gridmap_grid; ANALYZE gridmap_community")
    rehome_households()
    refresh_initials()  # members arrive by COPY: their pinyin initials in one UPDATE
    return table_counts()


def table_counts() -> dict[str, int]:
    tables = [
        "street",
        "community",
        "grid",
        "household",
        "centralhousehold",
        "centrallink",
        "servicestation",
        "member",
        "gridassignment",
        "referencefeature",
        "helppair",
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM gridmap_{t}" for t in tables))
        return dict(cursor.fetchall())
