"""Coverage metrics per grid from arrays: the vectorised twin of ``gridmap.queries.coverage``.

For what-if analysis ("a station here?") and as the benchmark's in-memory anchor. Both compute
docs/domain.md's "Coverage" figures with the same definitions and agree exactly (tests/test_coverage.py).

Station coverage is decided as PostGIS decides ``ST_DWithin(station::geography, household::geography,
radius_m)``: geodesic distance on the WGS84 spheroid (GeographicLib through pyproj), the radius
included. A KD-tree on plate-carrée metres settles every pair that is clearly inside or
outside; only pairs within a projection-error margin of the radius (a metre or two in a city) get
the geodesic computation, with PostGIS's degree-radian round trip so that ties round the same way.

Examples
--------
>>> import numpy as np
>>> covered = stations_cover(np.array([101.68, 101.70]), np.array([39.21, 39.21]),
...                          np.array([101.68]), np.array([39.2145]), np.array([500.0]))
>>> covered.tolist()
[True, False]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Geod
from scipy.spatial import cKDTree

_GEOD = Geod(ellps="WGS84")
_EARTH_M = 6.3e6  # a little under the earth's radius: keeps the projection-error margin conservative

COLUMNS = [
    "grid_id",
    "code",
    "name",
    "households",
    "covered",
    "covered_pct",
    "linked",
    "linked_pct",
    "central",
    "central_links",
    "central_load",
    "central_off_band",
    "leaders",
    "fulltime",
    "staffed",
    "per_fulltime",
    "size_status",
    "vulnerable",
    "vulnerable_uncovered",
]


def _postgis_geodesic(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Metres between points as PostGIS's spheroid_distance() computes them (degrees → radians → degrees,
    then GeographicLib's inverse problem), so that a distance at exactly the radius decides the same way."""

    def round_trip(deg):
        return (np.pi * np.asarray(deg, dtype=np.float64) / 180.0) * 180.0 / np.pi

    return np.asarray(_GEOD.inv(round_trip(lon1), round_trip(lat1), round_trip(lon2), round_trip(lat2))[2])


def _m_per_deg_lon(lat):
    phi = np.radians(lat)
    return 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi) + 0.118 * np.cos(5 * phi)


def _m_per_deg_lat(lat):
    phi = np.radians(lat)
    return 111132.954 - 559.822 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)


def stations_cover(lon, lat, st_lon, st_lat, st_radius_m) -> np.ndarray:
    """Whether each point lies within at least one station's radius (geodesic metres, boundary included).

    Parameters
    ----------
    lon, lat : array_like
        Household coordinates, WGS84 degrees.
    st_lon, st_lat, st_radius_m : array_like
        Active stations and their service radii in metres.

    Returns
    -------
    numpy.ndarray of bool
    """
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    st_lon, st_lat = np.asarray(st_lon, dtype=np.float64), np.asarray(st_lat, dtype=np.float64)
    radius = np.asarray(st_radius_m, dtype=np.float64)
    covered = np.zeros(len(lon), dtype=bool)
    if len(lon) == 0 or len(st_lon) == 0:
        return covered
    # Plate carrée in metres about the middle latitude (numpy, ~30x faster than a PROJ transform). Its
    # scale is off by mx(lat)/mx(lat0) along x and my(lat)/my(lat0) along y; pairs within a radius
    # add (r / earth radius) * tan(lat) more. ``relative`` bounds both, with room to spare.
    lat0 = 0.5 * (min(lat.min(), st_lat.min()) + max(lat.max(), st_lat.max()))
    lon0 = float(np.mean(st_lon))
    xy = np.column_stack(((lon - lon0) * _m_per_deg_lon(lat0), (lat - lat0) * _m_per_deg_lat(lat0)))
    st_xy = np.column_stack(((st_lon - lon0) * _m_per_deg_lon(lat0), (st_lat - lat0) * _m_per_deg_lat(lat0)))
    edge_lat = np.array([min(lat.min(), st_lat.min()), max(lat.max(), st_lat.max())])
    stretch = max(
        np.abs(_m_per_deg_lon(edge_lat) / _m_per_deg_lon(lat0) - 1).max(),
        np.abs(_m_per_deg_lat(edge_lat) / _m_per_deg_lat(lat0) - 1).max(),
    )
    tan = np.tan(np.radians(np.abs(edge_lat).max()))
    relative = 2 * stretch + 1e-3
    todo = np.arange(len(lon))
    for r in np.unique(radius)[::-1]:  # widest radius first: most households are settled early
        if not len(todo):
            break
        group = np.flatnonzero(radius == r)
        margin = r * (relative + 4 * r / _EARTH_M * (1 + tan)) + 0.01
        tree = cKDTree(st_xy[group])
        nearest, _ = tree.query(xy[todo], k=1, distance_upper_bound=r + margin)
        covered[todo[nearest <= r - margin]] = True
        edge = todo[(nearest > r - margin) & np.isfinite(nearest)]
        if len(edge):
            lists = tree.query_ball_point(xy[edge], r + margin)
            counts = np.fromiter((len(c) for c in lists), dtype=np.int64, count=len(lists))
            hh = np.repeat(edge, counts)
            st = group[np.concatenate([np.asarray(c, dtype=np.int64) for c in lists])]
            inside = _postgis_geodesic(st_lon[st], st_lat[st], lon[hh], lat[hh]) <= r
            covered[hh[inside]] = True
        todo = todo[~covered[todo]]
    return covered


def grid_coverage(
    grids: pd.DataFrame,
    households: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    size_band: tuple[int, int] = (200, 500),
    load_band: tuple[int, int] = (5, 15),
) -> pd.DataFrame:
    """docs/domain.md's coverage figures per grid, vectorised.

    Parameters
    ----------
    grids : DataFrame
        One row per grid: ``id``, ``code``, ``name``, ``leaders`` and ``fulltime`` (active assignments).
    households : DataFrame
        ``grid_id`` (NaN or -1 for none), ``lon``, ``lat`` and booleans ``central`` (an active central
        household), ``linked`` (linked to an active central household), ``vulnerable`` (elderly alone,
        disabled, low income or hardship), ``helped`` (in an active help pair); ``links``: for a central
        household, how many households it links (0 otherwise).
    stations : DataFrame
        Active stations: ``lon``, ``lat``, ``radius_m``.
    size_band, load_band : (int, int)
        Households per grid and links per central household that count as normal.

    Returns
    -------
    DataFrame
        :data:`COLUMNS`, one row per grid in code order; percentages and ratios are NaN where the
        denominator is 0.

    Examples
    --------
    >>> grids = pd.DataFrame({"id": [1], "code": ["152922100001001"], "name": ["一网格"], "leaders": [1],
    ...                       "fulltime": [1]})
    >>> hh = pd.DataFrame({"grid_id": [1, 1], "lon": [101.68, 101.70], "lat": [39.21, 39.21],
    ...                    "central": [True, False], "linked": [False, True], "vulnerable": [False, True],
    ...                    "helped": [False, False], "links": [1, 0]})
    >>> st = pd.DataFrame({"lon": [101.68], "lat": [39.2145], "radius_m": [500]})
    >>> grid_coverage(grids, hh, st, size_band=(1, 5))[["households", "covered", "linked", "staffed"]].values.tolist()
    [[2, 1, 2, True]]
    """
    grids = grids.sort_values("code", kind="stable").reset_index(drop=True)
    n = len(grids)
    position = pd.Series(np.arange(n), index=grids["id"].to_numpy())
    gid = pd.to_numeric(households["grid_id"], errors="coerce")
    slot = position.reindex(gid.to_numpy()).to_numpy()
    mine = np.isfinite(slot)
    slot = slot[mine].astype(np.int64)
    hh = households.loc[mine]
    covered = stations_cover(
        hh["lon"].to_numpy(),
        hh["lat"].to_numpy(),
        stations["lon"].to_numpy(),
        stations["lat"].to_numpy(),
        stations["radius_m"].to_numpy(),
    )
    central = hh["central"].to_numpy(dtype=bool)
    linked = central | hh["linked"].to_numpy(dtype=bool)
    vulnerable = hh["vulnerable"].to_numpy(dtype=bool)
    uncovered = vulnerable & ~linked & ~hh["helped"].to_numpy(dtype=bool) & ~covered
    links = hh["links"].to_numpy(dtype=np.int64)
    off_band = central & ((links < load_band[0]) | (links > load_band[1]))

    def per_grid(values) -> np.ndarray:
        return np.bincount(slot, weights=np.asarray(values, dtype=np.float64), minlength=n).astype(np.int64)

    out = pd.DataFrame(
        {"grid_id": grids["id"].to_numpy(), "code": grids["code"].to_numpy(), "name": grids["name"].to_numpy()}
    )
    out["households"] = np.bincount(slot, minlength=n)
    out["covered"] = per_grid(covered)
    out["linked"] = per_grid(linked)
    out["central"] = per_grid(central)
    out["central_links"] = per_grid(np.where(central, links, 0))
    out["central_off_band"] = per_grid(off_band)
    out["vulnerable"] = per_grid(vulnerable)
    out["vulnerable_uncovered"] = per_grid(uncovered)
    out["leaders"] = grids["leaders"].to_numpy(dtype=np.int64)
    out["fulltime"] = grids["fulltime"].to_numpy(dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        households_f = out["households"].to_numpy(dtype=np.float64)
        out["covered_pct"] = np.where(households_f > 0, 100.0 * out["covered"] / households_f, np.nan)
        out["linked_pct"] = np.where(households_f > 0, 100.0 * out["linked"] / households_f, np.nan)
        out["central_load"] = np.where(out["central"] > 0, out["central_links"] / out["central"], np.nan)
        out["per_fulltime"] = np.where(out["fulltime"] > 0, households_f / out["fulltime"], np.nan)
    out["staffed"] = (out["leaders"] == 1) & (out["fulltime"] >= 1)
    out["size_status"] = np.select(
        [out["households"] < size_band[0], out["households"] > size_band[1]], ["under", "over"], "ok"
    )
    return out[COLUMNS]
