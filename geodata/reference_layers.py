"""Reference layers of the synthetic city: the road lattice with its names, a river, the residential
compounds (小区) and their buildings, laid out exactly where geodata/synth.py put the households (a
compound's households stand in its buildings, addressed "N栋"). So a map of the demo shows streets, water and
blocks to find one's way and to snap grid edges to, without any outside tile server.

Pure: numpy and shapely only, in the city's local metres, converted with the city's own ``to_lonlat``.

>>> from geodata.synth import build_city
>>> layers = build_city(3_000, seed=7).reference
>>> sorted(layers.kind.unique())
['building', 'compound', 'road', 'water']
>>> bool(layers.geometry.is_valid.all())
True
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

_COMPOUND_WORDS = list("锦华康泰和嘉瑞祥福安怡馨景润宏盛翠金银明阳")
_COMPOUND_SUFFIX = ["小区", "花园", "家园", "苑", "新村", "公寓"]
_RIVER = ["弱水河", "黑河", "额济纳河", "清水河"]


def reference_layers(plan: dict, to_lonlat, seed: int) -> gpd.GeoDataFrame:
    """Columns kind (road, water, compound, building), name, geometry; EPSG:4326."""
    rng = np.random.default_rng(seed + 7919)  # independent of the generator of the city itself
    region = plan["region"]
    rows = _roads(plan) + _river(region, rng) + _compounds(plan, rng)
    kinds, names, geoms = zip(*rows, strict=True)
    lonlat = [shapely.transform(g, to_lonlat) for g in geoms]
    return gpd.GeoDataFrame({"kind": list(kinds), "name": list(names)}, geometry=lonlat, crs=4326)


def _roads(plan: dict) -> list[tuple[str, str, object]]:
    area = plan["region"].buffer(40)
    x0, y0, x1, y1 = area.bounds
    rows = []
    for u, name in zip(plan["ru"], plan["col_names"], strict=False):
        line = shapely.LineString([(u, y0), (u, y1)]).intersection(area)
        if not line.is_empty:
            rows.append(("road", str(name), line))
    for v, name in zip(plan["rv"], plan["row_names"], strict=False):
        line = shapely.LineString([(x0, v), (x1, v)]).intersection(area)
        if not line.is_empty:
            rows.append(("road", str(name), line))
    return rows


def _river(region, rng) -> list[tuple[str, str, object]]:
    """A river bank along the south side of the city: a band 60–140 m outside its outline."""
    band = region.buffer(140).difference(region.buffer(60))
    x0, y0, x1, y1 = region.bounds
    south = shapely.box(x0 - 500, y0 - 500, x1 + 500, y0 + (y1 - y0) * 0.35)
    river = band.intersection(south)
    if river.geom_type == "MultiPolygon":  # keep the longest stretch
        river = max(river.geoms, key=lambda g: g.area)
    return [] if river.is_empty else [("water", str(rng.choice(_RIVER)), river)]


def _compounds(plan: dict, rng) -> list[tuple[str, str, object]]:
    rows = []
    blocks, ncol, nrow = plan["blocks"], plan["ncol"], plan["nrow"]
    for b in np.flatnonzero(plan["kind"] == 0):
        bx, by, bw, bh = blocks[b]
        name = "".join(rng.choice(_COMPOUND_WORDS, 2)) + str(rng.choice(_COMPOUND_SUFFIX))
        rows.append(("compound", name, shapely.box(bx + 8, by + 8, bx + bw - 8, by + bh - 8)))
        cols, lines = int(ncol[b]), int(nrow[b])
        cw, ch = (bw - 40) / cols, (bh - 40) / lines
        k = np.arange(cols * lines)
        cx = bx + 20 + (k % cols + 0.5) * cw
        cy = by + 20 + (k // cols + 0.5) * ch
        half_w, half_h = min(cw * 0.36, 22), min(ch * 0.3, 7)
        footprints = shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        rows += [("building", f"{name}{i + 1}栋", g) for i, g in enumerate(footprints)]
    return rows
