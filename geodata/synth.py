"""Deterministic synthetic city: streets, communities, grids, households, stations and people.

:func:`demo_street` is modelled on 巴丹吉林镇 (阿拉善右旗, county 152922): 5 communities, 44 grids,
15,000 households, 56 full-time grid workers, 1,380 party-member volunteers, 90 help pairs.
:func:`build_city` scales the recipe from 1,000 to 1,000,000+ households. Built in local metres
(:func:`_frame`): a convex outline with a lattice of roads; households in blocks, as compounds
(小区: buildings, units, floors) or houses facing the roads, always 15 m or more from a road centre
line. Streets are recursive bisections of the outline, communities are Voronoi cells of k-means
seeds clipped to their street, grids are recursive bisections of their community that cut along
a road near the balancing quantile or else through the widest empty strip. Grid edges are then
noded on a 1 mm grid (neighbours share every vertex, so unions leave no slivers), households within
1 m of a grid boundary are moved inwards, and each household's grid is re-derived from the
EPSG:4326 polygons as a check. The partition and the noding are in :mod:`geodata.synth_partition`.

Codes are numbered row-major within their parent (streets 152922100, 101, ...; communities
001..; grids 001..): take each polygon's centroid in EPSG:4326 and the band height ``h`` = median
latitude extent (maxy - miny) of the siblings; ``row = floor((max centroid latitude - latitude) / h)``;
sort by ``(row, longitude)``, i.e. rows from north to south, west to east within a row.

Examples
--------
>>> city = build_city(2_000, seed=1)
>>> len(city.households), city.grids.crs.to_epsg()
(2000, 4326)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely import affinity

from geodata.reference_layers import reference_layers
from geodata.synth_partition import nudge_households, partition, shared_edges
from geodata.synth_people import COUNTY, chinese_names, id_numbers, mobile_numbers, staff_and_help_pairs

_DENSITY = 2_600e-6  # households per m² of city outline
_PER_STREET = 150_000  # households per street (街道/镇)
_STR = np.dtypes.StringDType()
_ROADS = (
    "团结 建设 胜利 人民 巴丹吉林 额肯 雅布赖 阿拉腾 曼德拉 塔木素 胡杨 红柳 梭梭 驼铃 金沙 民族 和平 幸福 "
    "文化 新华 长安 光明 振兴 育才 健康 迎宾 滨河 绿洲 祁连 贺兰 海子 乌兰 宝日 查干 呼和 沙枣 北山 南环 "
    "东环 西环 工业 商贸 体育 学府 府前 安居 东风 友谊 康乐 青年 军民 兴业"
).split()
_COMMUNITIES = (
    "巴丹吉林 额肯呼都格 阳光 团结 满达 长山 雅布赖 玛拉沁 胡杨 红柳 驼铃 金沙 绿洲 祥和 幸福 和平 "
    "康宁 民族 新华 文化 育才 健康 迎宾 滨河 海子 宝日 查干 乌兰 北山 南湖 东城 西城 振兴 光明 "
    "友谊 安居 青年 兴业 梭梭 沙枣"
).split()
_STREETS = ["巴丹吉林镇", "雅布赖镇", "阿拉腾敖包镇"]
_PREFIX = ["", "新", "东", "西", "南", "北", "中", "前", "后", "上", "下", "城"]
_ORDINAL = "一二三四五六七八九十"
_SERVICES = (
    "家政服务 家电维修 法律咨询 职业介绍 医疗保健 社会治安 助餐服务 理发服务 代办服务 心理疏导 文体活动 快递代收"
).split()
_HOURS = ["08:30-12:00,14:30-18:00", "09:00-17:00", "08:00-20:00", "全天开放"]


@dataclass
class City:
    """All layers of a synthetic city; every GeoDataFrame is in EPSG:4326."""

    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    central_links: pd.DataFrame
    stations: gpd.GeoDataFrame
    members: pd.DataFrame
    assignments: pd.DataFrame
    help_pairs: pd.DataFrame
    reference: gpd.GeoDataFrame | None = None  # roads, water, compounds, buildings (geodata/reference_layers.py)


def demo_street(seed: int = 20261122) -> City:
    """The demo street 巴丹吉林镇: 5 communities, 44 grids, 15,000 households, 12 stations."""
    return build_city(15_000, seed=seed, n_grids=44, n_stations=12, n_communities=5)


def build_city(
    n_households: int = 15_000,
    *,
    seed: int = 20261122,
    n_grids: int | None = None,
    n_stations: int | None = None,
    n_communities: int | None = None,
    origin: tuple[float, float] = (101.68, 39.21),
) -> City:
    """Build a deterministic synthetic city; the same arguments always give identical output.

    Parameters
    ----------
    n_households : int
        Number of households, 1,000 to 2,000,000.
    seed : int
        Seed of the single random generator used throughout.
    n_grids, n_stations, n_communities : int, optional
        Defaults ``round(n/300)``, ``max(3, n // 500)`` and ``max(1, n_grids // 9)`` (at least one per street).
        Streets are ``ceil(n / 150_000)``, coded 152922100, 152922101, ...
    origin : (lon, lat)
        Centre of the city in EPSG:4326.

    Returns
    -------
    City

    Examples
    --------
    >>> city = build_city(3_000, seed=7)
    >>> city.grids.code.str.len().unique().tolist()
    [15]
    """
    n = int(n_households)
    if not 1_000 <= n <= 2_000_000:
        raise ValueError(f"n_households must be within 1,000..2,000,000, got {n}")
    n_streets = math.ceil(n / _PER_STREET)
    n_grids = max(1, round(n / 300)) if n_grids is None else int(n_grids)
    n_comm = max(n_streets, n_grids // 9) if n_communities is None else int(n_communities)
    n_stations = max(3, n // 500) if n_stations is None else int(n_stations)
    if not n_streets <= n_comm <= min(n_grids, 199 * n_streets):
        raise ValueError(f"need {n_streets} <= n_communities <= n_grids and <= 199 per street")
    if n_grids > 900 * n_comm or n_grids > n // 20 or n_stations < 1:
        raise ValueError("too many grids for the communities or households, or no stations")
    rng = np.random.default_rng(seed)
    region, xy, address, road, roads, plan = _layout(rng, n)
    comm_street, grids, grid_comm, hh_grid = partition(rng, region, xy, roads, n_streets, n_comm, n_grids)
    local = shared_edges(grids, grid_comm, comm_street)
    nudge_households(xy, local[2], hh_grid)
    to_lonlat = _frame(origin, rng.uniform(0.1, 0.35))
    st, cm, gr = _codes(
        [shapely.orient_polygons(shapely.transform(p, to_lonlat)) for p in local], comm_street, grid_comm
    )
    hh = _households(rng, to_lonlat(xy), address, road, hh_grid, gr, cm)
    xy = xy[hh.pop("_src").to_numpy()]
    links = _central_links(rng, xy, hh, local[2])
    stations = _stations(rng, n_stations, xy, to_lonlat, hh, st, cm)
    members, assignments, help_pairs = staff_and_help_pairs(rng, hh, gr, cm, np.bincount(hh["_g"], minlength=len(gr)))
    hh = hh.drop(columns=["_g", "_road"])
    frames = [
        gpd.GeoDataFrame(d.sort_values("code", ignore_index=True), geometry="geometry", crs=4326) for d in (st, cm, gr)
    ]
    reference = reference_layers(plan, to_lonlat, seed)  # its own generator: the layers above stay as they were
    return City(*frames, hh, links, stations, members, assignments, help_pairs, reference)


def _layout(rng, n):
    """City outline, road lattice and household positions / addresses in local metres."""
    k = 10
    ang, rad = np.sort(rng.uniform(0, 2 * np.pi, k)), rng.uniform(0.8, 1.0, k)
    hull = shapely.convex_hull(shapely.multipoints(np.c_[1.35 * rad * np.cos(ang), rad * np.sin(ang)]))
    region = affinity.scale(hull, *[math.sqrt(n / _DENSITY / hull.area)] * 2, origin=(0, 0))
    while True:
        x0, y0, x1, y1 = region.bounds
        ru = x0 + np.cumsum(np.r_[0, rng.uniform(160, 320, int((x1 - x0) // 160) + 2)])
        rv = y0 + np.cumsum(np.r_[0, rng.uniform(160, 320, int((y1 - y0) // 160) + 2)])
        bi, bj = (a.ravel() for a in np.meshgrid(np.arange(len(ru) - 1), np.arange(len(rv) - 1), indexing="ij"))
        inside = shapely.contains(region.buffer(-10), shapely.box(ru[bi], rv[bj], ru[bi + 1], rv[bj + 1]))
        if inside.sum() >= 6:
            break
        region = affinity.scale(region, 1.2, 1.2, origin=(0, 0))
    bi, bj = bi[inside], bj[inside]
    bx, by, bw, bh = ru[bi], rv[bj], ru[bi + 1] - ru[bi], rv[bj + 1] - rv[bj]
    kind = rng.choice(3, len(bi), p=[0.5, 0.35, 0.15])  # compound, houses on the roads, empty
    kind[np.argmax(bw * bh)] = 0
    centre = np.hypot(bx + bw / 2, by + bh / 2) / math.sqrt(n / _DENSITY)
    weight = (
        bw
        * bh
        * np.exp(-1.5 * centre**2)
        * np.where(kind == 0, rng.lognormal(0.9, 0.35, len(bi)), np.where(kind == 1, 0.45, 0.0))
    )
    blk = np.repeat(np.arange(len(bi)), rng.multinomial(n, weight / weight.sum()))
    row_names = _road_names(rng, len(rv), "路")
    col_names = _road_names(rng, len(ru), "街")
    xy, address, road = np.empty((n, 2)), np.empty(n, dtype=_STR), np.empty(n, dtype=_STR)
    # compounds: buildings on a lattice inside the block, addressed 路 N号 B栋 U单元 FFRR
    c = np.flatnonzero(kind[blk] == 0)
    b = blk[c]
    ncol, nrow = np.maximum(1, (bw - 40) // 55).astype(int), np.maximum(1, (bh - 40) // 30).astype(int)
    bld = (rng.random(len(c)) * (ncol * nrow)[b]).astype(int)
    cw, ch = (bw[b] - 40) / ncol[b], (bh[b] - 40) / nrow[b]
    xy[c, 0] = bx[b] + 20 + (bld % ncol[b] + 0.5) * cw + rng.uniform(-0.4, 0.4, len(c)) * np.minimum(cw, 50)
    xy[c, 1] = by[b] + 20 + (bld // ncol[b] + 0.5) * ch + rng.uniform(-4, 4, len(c))
    floors = rng.choice([5, 6, 6, 7, 11, 18], len(bi))[b]
    rank = _group_rank(b * 64 + bld)
    road[c] = row_names[bj[b]]
    address[c] = _cat(
        road[c],
        2 * bi[b] + 1,
        "号",
        bld + 1,
        "栋",
        rank // (2 * floors) + 1,
        "单元",
        (rank // 2) % floors + 1,
        "0",
        rank % 2 + 1,
    )
    # houses facing a road: set back 15-35 m, numbered odd / even by side of the road
    f = np.flatnonzero(kind[blk] == 1)
    b = blk[f]
    length = np.c_[bw, bw, bh, bh][b]
    cum = np.cumsum(length, axis=1)
    side = (rng.random(len(f))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    t = 20 + rng.random(len(f)) * (length[np.arange(len(f)), side] - 40)
    d = rng.uniform(15, 35, len(f))
    xy[f, 0] = np.select([side < 2, side == 2], [bx[b] + t, bx[b] + d], bx[b] + bw[b] - d)
    xy[f, 1] = np.select([side == 0, side == 1], [by[b] + d, by[b] + bh[b] - d], by[b] + t)
    road_id = np.select([side == 0, side == 1, side == 2], [bj[b], bj[b] + 1, len(rv) + bi[b]], len(rv) + bi[b] + 1)
    parity = side % 2
    along = np.where(side < 2, xy[f, 0], xy[f, 1])
    road[f] = np.concatenate([row_names, col_names])[road_id]
    address[f] = _cat(road[f], 2 * _group_rank(road_id * 2 + parity, along) + 1 + parity, "号")
    plan = {"region": region, "ru": ru, "rv": rv, "row_names": row_names, "col_names": col_names,
            "blocks": np.c_[bx, by, bw, bh], "kind": kind, "ncol": ncol, "nrow": nrow}  # fmt: skip
    return region, xy, address, road, (ru, rv), plan


def _frame(origin, theta):
    """Function mapping local (u, v) metres, rotated by ``theta``, to (lon, lat) EPSG:4326.

    The local CRS is equidistant cylindrical centred on ``origin`` (true scale at its latitude).
    It is affine in lon/lat, so straight edges stay straight and shared edges stay shared exactly;
    a transverse Mercator frame would bend long edges by centimetres and open slivers of many m².
    """
    lon0, lat0 = origin
    local = CRS.from_dict({"proj": "eqc", "lat_ts": lat0, "lat_0": lat0, "lon_0": lon0, "ellps": "WGS84"})
    inverse = Transformer.from_crs(local, 4326, always_xy=True)
    c, s = math.cos(theta), math.sin(theta)

    def to_lonlat(uv):
        return np.column_stack(inverse.transform(c * uv[:, 0] - s * uv[:, 1], s * uv[:, 0] + c * uv[:, 1]))

    return to_lonlat


def _row_major(polys):
    """Order of polygons (EPSG:4326): rows of latitude bands north→south, west→east within a row."""
    c, b = shapely.get_coordinates(shapely.centroid(polys)), shapely.bounds(polys)
    row = np.floor((c[:, 1].max() - c[:, 1]) / max(np.median(b[:, 3] - b[:, 1]), 1e-9))
    return np.lexsort((c[:, 0], row))


def _codes(polys, comm_street, grid_comm):
    """Street, community and grid tables (in build order) with row-major codes and names."""
    s_poly, c_poly, g_poly = polys
    s_code, c_code = np.empty(len(s_poly), dtype=object), np.empty(len(c_poly), dtype=object)
    s_code[_row_major(s_poly)] = [f"{COUNTY}{100 + r}" for r in range(len(s_poly))]
    for s in range(len(s_poly)):
        ix = np.flatnonzero(comm_street == s)
        c_code[ix[_row_major(c_poly[ix])]] = [f"{s_code[s]}{r + 1:03d}" for r in range(len(ix))]
    seq = np.empty(len(g_poly), dtype=np.int64)
    for c in range(len(c_poly)):
        ix = np.flatnonzero(grid_comm == c)
        seq[ix[_row_major(g_poly[ix])]] = np.arange(1, len(ix) + 1)
    c_name = np.array([_name(_COMMUNITIES, r, "社区") for r in np.argsort(np.argsort(c_code))], dtype=object)
    s_name = [_STREETS[r] if r < len(_STREETS) else _name(_ROADS, r, "街道") for r in np.argsort(np.argsort(s_code))]
    return (
        pd.DataFrame({"code": s_code, "name": s_name, "geometry": s_poly}),
        pd.DataFrame({"code": c_code, "name": c_name, "street_code": s_code[comm_street], "geometry": c_poly}),
        pd.DataFrame(
            {
                "code": [f"{c_code[c]}{q:03d}" for c, q in zip(grid_comm, seq)],
                "name": [f"{c_name[c]}第{q}网格" for c, q in zip(grid_comm, seq)],
                "community_code": c_code[grid_comm],
                "geometry": g_poly,
            }
        ),
    )


def _households(rng, lonlat, address, road, hh_grid, gr, cm):
    """Household table sorted by grid code (hid = row), checked against the grid polygons."""
    n = len(lonlat)
    points = shapely.points(lonlat)
    pi, gi = shapely.STRtree(gr.geometry.to_numpy()).query(points, predicate="within")
    if len(pi) != n or np.any(np.bincount(pi, minlength=n) != 1) or np.any(hh_grid[pi] != gi):
        raise RuntimeError("a household is not inside exactly one grid")
    g_rank = np.argsort(np.argsort(gr.code.to_numpy().astype(str)))
    src = np.argsort(g_rank[hh_grid], kind="stable")
    g = hh_grid[src]
    male = rng.random(n) < 0.62
    birth = np.datetime64("1940-01-01") + rng.integers(0, 24_107, n)
    alone = (birth < np.datetime64("1961-01-01")) & (rng.random(n) < 0.065)
    tags = {
        t: rng.random(n) < p
        for t, p in [
            ("disabled", 0.015),
            ("low_income", 0.02),
            ("hardship", 0.005),
            ("military", 0.012),
            ("other_difficulty", 0.01),
        ]
    }
    residents = np.where(alone, 1, rng.choice(np.arange(1, 7), n, p=[0.16, 0.3, 0.28, 0.15, 0.08, 0.03]))
    df = pd.DataFrame(
        {
            "hid": np.arange(n),
            "community_code": gr.community_code.to_numpy()[g],
            "grid_code": gr.code.to_numpy()[g],
            "address": address[src].astype(object),
            "head_name": chinese_names(rng, male),
            "phone": mobile_numbers(rng, n, 0),
            "id_number": id_numbers(rng, birth, male),
            "residents": residents,
            "resident_type": np.where(~alone & (rng.random(n) < 0.14), "migrant", "permanent"),
            "is_party_member": rng.random(n) < 0.12,
            "elderly_alone": alone,
            **tags,
            "_g": g,
            "_road": road[src].astype(object),
            "_src": src,
        }
    )
    return gpd.GeoDataFrame(df, geometry=points[src], crs=4326)


def _central_links(rng, xy, hh, grid_polys, per_central=10, share=28):
    """Party-member central households (about one per ``share`` households of each grid) and links.

    Each links its nearest households of the same grid, except the 4% nearest to a grid boundary,
    which link their nearest households whatever the grid (a few links cross a boundary).
    """
    g, party = hh["_g"].to_numpy(), hh.is_party_member.to_numpy()
    quota = np.ceil(np.bincount(g) / share)
    cand = np.flatnonzero(party)
    cand = cand[np.lexsort((rng.random(len(cand)), g[cand]))]
    central = np.sort(cand[_group_rank(g[cand]) < quota[g[cand]]])
    want = np.clip(np.rint(rng.normal(per_central, 1.8, len(central))), 5, 15)
    odd = rng.random(len(central)) < 0.02
    want[odd] = rng.choice([3, 4, 16, 17], odd.sum())
    dist, nb = cKDTree(xy).query(xy[central], k=min(40, len(xy)))
    ci, li, d = np.repeat(np.arange(len(central)), nb.shape[1]), nb.ravel(), dist.ravel()
    is_central = np.zeros(len(xy), bool)
    is_central[central] = True
    edge_gap = shapely.distance(shapely.points(xy[central]), shapely.boundary(grid_polys[g[central]]))
    cross = edge_gap <= np.quantile(edge_gap, 0.04)
    keep = ~is_central[li] & ((g[li] == g[central][ci]) | cross[ci])
    ci, li, d = ci[keep], li[keep], d[keep]
    o = np.lexsort((d, li))
    o = o[np.r_[True, li[o][1:] != li[o][:-1]]]  # a household is linked to its nearest central only
    ci, li, d = ci[o], li[o], d[o]
    o = np.lexsort((d, ci))
    o = o[_group_rank(ci[o]) < want[ci[o]]] if len(o) else o
    return pd.DataFrame({"central_hid": central[ci[o]], "linked_hid": li[o]}).sort_values(
        ["central_hid"], kind="stable", ignore_index=True
    )


def _stations(rng, n_st, xy, to_lonlat, hh, st, cm):
    """One 党群服务中心 per street, one 党群服务站 per community, then 便民服务站 where people live."""
    comm = pd.Series(hh.community_code.to_numpy())
    n_centre = min(n_st, len(st))
    n_station = min(n_st - n_centre, len(cm))
    heads = [_nearest_to_median(xy, comm.str[:9]).iloc[:n_centre], _nearest_to_median(xy, comm).iloc[:n_station]]
    name_of = dict(zip(cm.code, cm.name)) | dict(zip(st.code, st.name))
    names = [f"{name_of[c]}党群服务中心" for c in heads[0].index] + [f"{name_of[c]}党群服务站" for c in heads[1].index]
    anchors = [int(a) for h in heads for a in h.to_numpy()]
    sample = rng.choice(len(xy), min(len(xy), 20_000), replace=False)
    d2 = cKDTree(xy[anchors]).query(xy[sample])[0] ** 2 if anchors else np.ones(len(sample))
    for _ in range(n_st - len(anchors)):  # spread out: pick with probability ~ distance²
        pick = sample[rng.choice(len(sample), p=d2 / d2.sum())]
        anchors.append(pick)
        d2 = np.minimum(d2, ((xy[sample] - xy[pick]) ** 2).sum(axis=1))
    road = pd.Series(hh["_road"].to_numpy()[anchors[len(names) :]])
    names += [f"{r}{'' if k == 0 else f'第{k + 1}'}便民服务站" for r, k in zip(road, road.groupby(road).cumcount())]
    kind = np.repeat(["center", "station", "convenience"], [n_centre, n_station, n_st - n_centre - n_station])
    points = shapely.points(to_lonlat(xy[anchors] + np.array([6.0, 0.0])))
    pi, ci = shapely.STRtree(cm.geometry.to_numpy()).query(points, predicate="intersects")
    in_comm = pd.Series(cm.code.to_numpy()[ci]).groupby(pi).min().reindex(range(n_st)).to_numpy()
    is_kind = [kind == "center", kind == "station"]
    radius = np.select(is_kind, [1000, 500], rng.choice([500, 300, 800], n_st, p=[0.6, 0.25, 0.15]))
    n_serv = np.select(is_kind, [12, rng.integers(6, 10, n_st)], rng.integers(3, 7, n_st))
    services = ["、".join(np.array(_SERVICES)[np.sort(rng.choice(12, k, replace=False))]) for k in n_serv]
    return gpd.GeoDataFrame(
        {
            "name": names,
            "kind": kind,
            "radius_m": radius.astype(int),
            "opening_hours": np.array(_HOURS)[rng.choice(4, n_st, p=[0.5, 0.2, 0.2, 0.1])],
            "services": services,
            "community_code": in_comm,
        },
        geometry=points,
        crs=4326,
    )


def _nearest_to_median(xy, key):
    """Per group of ``key`` (sorted), the index of the household nearest to the group's median point."""
    df = pd.DataFrame({"k": key.to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})
    med = df.groupby("k")[["x", "y"]].transform("median")
    return ((df.x - med.x) ** 2 + (df.y - med.y) ** 2).groupby(df.k).idxmin()


def _group_rank(key, order_by=None):
    """Position of each element within its ``key`` group (ordered by ``order_by``, else stable)."""
    order = np.lexsort((order_by, key)) if order_by is not None else np.argsort(key, kind="stable")
    k = key[order]
    idx = np.arange(len(k))
    start = np.maximum.accumulate(np.where(np.r_[True, k[1:] != k[:-1]], idx, 0)) if len(k) else idx
    rank = np.empty(len(k), dtype=np.int64)
    rank[order] = idx - start
    return rank


def _road_names(rng, k, suffix):
    """``k`` distinct road names: the base names in random order, then their 二/三/... variants."""
    base, p = rng.permutation(len(_ROADS)), len(_ROADS)
    return np.array(
        [_ROADS[base[i % p]] + ("" if i < p else _ORDINAL[i // p % 10]) + suffix for i in range(k)], dtype=_STR
    )


def _name(pool, r, suffix):
    """The ``r``-th distinct name from ``pool``: 阳光社区, ..., then 新阳光社区, 东阳光社区, ..."""
    prefix = _PREFIX[r // len(pool)] if r < len(pool) * len(_PREFIX) else str(r // len(pool))
    return f"{prefix}{pool[r % len(pool)]}{suffix}"


def _cat(*parts):
    """Concatenate string / integer arrays and scalars element-wise into a StringDType array."""
    out = np.asarray(parts[0], dtype=_STR)
    for p in parts[1:]:
        out = np.strings.add(out, np.asarray(p).astype(_STR) if not isinstance(p, str) else p)
    return out
