"""Coordinate systems households arrive in, converted to the WGS84 lon/lat we store.

WGS84 and CGCS2000 are the same for our purposes (differences of centimetres). GCJ-02 (高德, 腾讯)
and BD-09 (百度) are obfuscated systems offset by 100-700 m; the formulas come from the
``coordtransform`` package (module ``coordTransform``, C-accelerated for arrays) behind this module.
Its inverse functions are one-step approximations (errors of a metre or so); :func:`to_wgs84` refines
them by fixed-point iteration on the forward transform until the round trip closes to 1e-9 degrees (0.1 mm).

Projected systems go through pyproj (``always_xy=True``): CGCS2000 3° Gauss-Krüger zones 25-45 (central
meridians 75°E-135°E) with the zone number prefixed to x (EPSG:4513-4533, x ≈ 38 500 000) or without it
(EPSG:4534-4554, x ≈ 500 000), and Web Mercator (EPSG:3857). :func:`resolve_crs` turns what a user declares
into one of the lon/lat names or ``"EPSG:nnnn"``: a prefixed zone can be read from x (``"GK3"``), a zone
without prefix cannot, so it must be declared (``"GK3-38"``, ``"GK3-CM114"`` or ``"EPSG:4547"``).

Examples
--------
>>> import numpy as np
>>> lon, lat = from_wgs84(np.array([116.391]), np.array([39.907]), "GCJ02")
>>> back = to_wgs84(lon, lat, "GCJ02")
>>> bool(np.allclose(back, [[116.391], [39.907]], atol=1e-9))
True
"""

from __future__ import annotations

import re
from functools import lru_cache

import coordTransform
import numpy as np
from pyproj import Transformer

SOURCE_CRS = ("WGS84", "CGCS2000", "GCJ02", "BD09")
_IDENTITY = ("WGS84", "CGCS2000")
_FORWARD = {"GCJ02": coordTransform.wgs84_to_gcj02, "BD09": coordTransform.wgs84_to_bd09}
_APPROX_INVERSE = {"GCJ02": coordTransform.gcj02_to_wgs84, "BD09": coordTransform.bd09_to_wgs84}
_TOLERANCE_DEG = 1e-9  # about 0.1 mm
_MAX_ITERATIONS = 10
GK_ZONES = range(25, 46)  # 3° zones: zone n has its central meridian at 3n °E (75°E … 135°E)
GK_PREFIXED_EPSG = 4513 - 25  # + zone → EPSG:4513 … 4533 (x carries the zone number × 1e6)
GK_PLAIN_EPSG = 4534 - 25  # + zone → EPSG:4534 … 4554 (false easting 500 000 m only)
WEB_MERCATOR = "EPSG:3857"
PROJECTED_EPSG = frozenset([3857, *range(4513, 4555)])
_ALIASES = {
    "EPSG4326": "WGS84",
    "CRS84": "WGS84",
    "EPSG4490": "CGCS2000",
    "WEBMERCATOR": WEB_MERCATOR,
    "PSEUDOMERCATOR": WEB_MERCATOR,
    "EPSG900913": WEB_MERCATOR,
    "EPSG3857": WEB_MERCATOR,
}
_GK = re.compile(r"^(?:CGCS2000)?GK3?(?:ZONE)?(?:(?P<zone>\d{2})|CM(?P<cm>\d{2,3})E?)?$")
ACCEPTED = "WGS84, CGCS2000, GCJ02, BD09, EPSG:3857, EPSG:4513-4554, GK3-<zone 25-45>, GK3-CM<75-135>"


def normalise_crs(name: str) -> str:
    """``'gcj-02'`` → ``'GCJ02'``; raises ValueError naming the accepted systems for anything else."""
    key = str(name).upper().replace("-", "").replace("_", "").replace(" ", "")
    if key not in SOURCE_CRS:
        raise ValueError(f"unknown coordinate system {name!r}; use one of {', '.join(SOURCE_CRS)}")
    return key


def resolve_crs(name: str, x=None) -> str:
    """What a user declared → ``'WGS84'``, ``'CGCS2000'``, ``'GCJ02'``, ``'BD09'`` or ``'EPSG:nnnn'``.

    Parameters
    ----------
    name : str
        A lon/lat system (as :func:`normalise_crs`), ``'EPSG:3857'``/``'Web Mercator'``, ``'EPSG:4513'`` …
        ``'EPSG:4554'``, ``'GK3-38'`` (zone), ``'GK3-CM114'`` (central meridian) or ``'GK3'`` (zone read
        from the prefix of x; needs ``x``).
    x : array_like, optional
        The file's x values (eastings), used to tell prefixed from plain Gauss-Krüger coordinates.

    Raises
    ------
    ValueError
        Naming the accepted systems, or why a Gauss-Krüger declaration is not enough (no zone for
        coordinates without prefix, several zones in one file, a prefix that contradicts the zone).

    Examples
    --------
    >>> resolve_crs("gk3-cm114", [512345.0]), resolve_crs("GK3", [38512345.0]), resolve_crs("web mercator")
    ('EPSG:4547', 'EPSG:4526', 'EPSG:3857')
    """
    key = re.sub(r"[\s_:\-°]", "", str(name).upper())
    key = _ALIASES.get(key, key)
    if key in SOURCE_CRS or key == WEB_MERCATOR:
        return key
    if key.startswith("EPSG") and key[4:].isdigit():
        code = int(key[4:])
        if code not in PROJECTED_EPSG:
            raise ValueError(f"unsupported coordinate system {name!r}; use one of {ACCEPTED}")
        if code != 3857 and x is not None:
            _check_prefix(code, x)
        return f"EPSG:{code}"
    match = _GK.match(key)
    if not match:
        raise ValueError(f"unknown coordinate system {name!r}; use one of {ACCEPTED}")
    zone = int(match["zone"]) if match["zone"] else None
    if match["cm"]:
        cm = int(match["cm"])
        if cm % 3:
            raise ValueError(f"central meridian {cm} is not one of a 3° zone (75, 78, … 135)")
        zone = cm // 3
    if zone is not None and zone not in GK_ZONES:
        raise ValueError(f"Gauss-Krüger zone {zone} is outside China's zones 25-45")
    prefixes = _zone_prefixes(x)
    if prefixes is None or not prefixes:  # no coordinates, or no prefix in x
        if zone is None:
            raise ValueError(
                "coordinates without a zone prefix: declare the zone or central meridian "
                "(GK3-38, GK3-CM114 or EPSG:4547)"
            )
        return f"EPSG:{GK_PLAIN_EPSG + zone}"
    if len(prefixes) > 1:
        raise ValueError(f"several Gauss-Krüger zone prefixes in one file: {sorted(prefixes)}")
    found = prefixes.pop()
    if zone is not None and zone != found:
        raise ValueError(f"declared zone {zone} but the x values carry zone prefix {found}")
    return f"EPSG:{GK_PREFIXED_EPSG + found}"


def _zone_prefixes(x) -> set[int] | None:
    """Zone numbers in the x values' prefix (x ≥ 1e6), an empty set when x has none, None without x."""
    if x is None:
        return None
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    prefixed = x >= 1_000_000
    if prefixed.any() and not prefixed.all():
        raise ValueError("some x values carry a Gauss-Krüger zone prefix and some do not")
    if not prefixed.any():
        return set()
    zones = set(np.unique(np.floor(x / 1_000_000).astype(np.int64)).tolist())
    bad = zones - set(GK_ZONES)
    if bad:
        raise ValueError(f"x prefix {sorted(bad)} is not a Gauss-Krüger zone of China (25-45)")
    return zones


def _check_prefix(code: int, x) -> None:
    prefixes = _zone_prefixes(x) or set()
    if GK_PLAIN_EPSG + 25 <= code <= GK_PLAIN_EPSG + 45 and prefixes:
        raise ValueError(f"EPSG:{code} has no zone prefix but the x values carry {sorted(prefixes)}")
    if GK_PREFIXED_EPSG + 25 <= code <= GK_PREFIXED_EPSG + 45:
        zone = code - GK_PREFIXED_EPSG
        if prefixes != {zone}:
            raise ValueError(f"EPSG:{code} expects x values prefixed with zone {zone}")


@lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def _apply(func, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(lon) == 0:
        return lon.copy(), lat.copy()
    out_lon, out_lat = func(np.ascontiguousarray(lon), np.ascontiguousarray(lat))
    return np.asarray(out_lon, dtype=np.float64), np.asarray(out_lat, dtype=np.float64)


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise ValueError("lon and lat must be finite")
    return lon, lat


def from_wgs84(lon, lat, target_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat arrays → ``target_crs`` (a lon/lat name or a projected ``EPSG:nnnn``), vectorised."""
    crs = resolve_crs(target_crs)
    lon, lat = _as_arrays(lon, lat)
    if crs.startswith("EPSG:"):
        x, y = _transformer("EPSG:4326", crs).transform(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if crs in _IDENTITY:
        return lon.copy(), lat.copy()
    return _apply(_FORWARD[crs], lon, lat)


def to_wgs84(lon, lat, source_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat arrays from ``source_crs`` to WGS84, vectorised.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees, finite, same length.
    source_crs : str
        'WGS84', 'CGCS2000' (returned unchanged), 'GCJ02' or 'BD09' (hyphens and case are ignored), or a
        projected system as :func:`resolve_crs` accepts it; then ``lon``/``lat`` are eastings/northings.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        WGS84 degrees. Points outside China pass through unchanged (the offsets apply in China only).

    Examples
    --------
    >>> lon, lat = to_wgs84([116.487585570811], [39.991754254673], "GCJ-02")
    >>> round(float(lon[0]), 6), round(float(lat[0]), 6)
    (116.481499, 39.990475)
    """
    lon, lat = _as_arrays(lon, lat)
    crs = resolve_crs(source_crs, lon)
    if crs.startswith("EPSG:"):
        out_lon, out_lat = _transformer(crs, "EPSG:4326").transform(lon, lat)
        return np.asarray(out_lon, dtype=np.float64), np.asarray(out_lat, dtype=np.float64)
    if crs in _IDENTITY:
        return lon.copy(), lat.copy()
    forward = _FORWARD[crs]
    x, y = _apply(_APPROX_INVERSE[crs], lon, lat)
    for _ in range(_MAX_ITERATIONS):  # Newton-free fixed point: the forward map is ~identity + offset
        fx, fy = _apply(forward, x, y)
        dx, dy = fx - lon, fy - lat
        x -= dx
        y -= dy
        if max(np.abs(dx).max(initial=0.0), np.abs(dy).max(initial=0.0)) < _TOLERANCE_DEG:
            break
    return x, y
