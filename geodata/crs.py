"""Coordinate systems households arrive in, converted to the WGS84 lon/lat we store.

WGS84 and CGCS2000 are the same for our purposes (differences of centimetres). GCJ-02 (高德, 腾讯)
and BD-09 (百度) are obfuscated systems offset by 100-700 m; the formulas come from the
``coordtransform`` package (module ``coordTransform``, C-accelerated for arrays) behind this module.
Its inverse functions are one-step approximations (errors of a metre or so); :func:`to_wgs84` refines
them by fixed-point iteration on the forward transform until the round trip closes to 1e-9 degrees (0.1 mm).

Examples
--------
>>> import numpy as np
>>> lon, lat = from_wgs84(np.array([116.391]), np.array([39.907]), "GCJ02")
>>> back = to_wgs84(lon, lat, "GCJ02")
>>> bool(np.allclose(back, [[116.391], [39.907]], atol=1e-9))
True
"""
from __future__ import annotations

import numpy as np
import coordTransform

SOURCE_CRS = ("WGS84", "CGCS2000", "GCJ02", "BD09")
_IDENTITY = ("WGS84", "CGCS2000")
_FORWARD = {"GCJ02": coordTransform.wgs84_to_gcj02, "BD09": coordTransform.wgs84_to_bd09}
_APPROX_INVERSE = {"GCJ02": coordTransform.gcj02_to_wgs84, "BD09": coordTransform.bd09_to_wgs84}
_TOLERANCE_DEG = 1e-9  # about 0.1 mm
_MAX_ITERATIONS = 10


def normalise_crs(name: str) -> str:
    """``'gcj-02'`` → ``'GCJ02'``; raises ValueError naming the accepted systems for anything else."""
    key = str(name).upper().replace("-", "").replace("_", "").replace(" ", "")
    if key not in SOURCE_CRS:
        raise ValueError(f"unknown coordinate system {name!r}; use one of {', '.join(SOURCE_CRS)}")
    return key


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
    """WGS84 lon/lat arrays → ``target_crs`` (one of :data:`SOURCE_CRS`), vectorised."""
    crs = normalise_crs(target_crs)
    lon, lat = _as_arrays(lon, lat)
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
        'WGS84', 'CGCS2000' (returned unchanged), 'GCJ02' or 'BD09' (hyphens and case are ignored).

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
    crs = normalise_crs(source_crs)
    lon, lat = _as_arrays(lon, lat)
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
