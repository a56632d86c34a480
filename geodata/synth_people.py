"""Synthetic people for :mod:`geodata.synth`: names, phones, ID numbers, grid staff and help pairs.

Everything here is generated from a numpy ``Generator`` so the city stays deterministic.

Examples
--------
>>> import numpy as np
>>> ids = id_numbers(np.random.default_rng(1), np.array(["1980-05-01"], dtype="datetime64[D]"), np.array([True]))
>>> len(ids[0]), ids[0][:14]
(18, '15292219800501')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTY = "152922"
_STR = np.dtypes.StringDType()
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
_GIVEN = (
    "芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳雪莉倩婷慧晶颖琴云凤洁",  # female, male
    "伟强军磊勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林洋峰建国志海东亮成文忠福",
)
_MONGOL = (
    "乌云其其格 其木格 斯琴高娃 图雅 萨仁 娜仁花 格日勒 乌兰 托娅 阿拉坦其其格 萨日娜".split(),
    "巴特尔 孟克巴雅尔 额尔德尼 苏和 敖其尔 巴图 朝鲁 宝音 那顺 阿拉坦仓 毕力格 达来 特木尔 吉日嘎拉".split(),
)
_UNITS = (
    "旗人民医院 旗公安局 旗司法局 旗住建局 旗教育局 旗税务局 旗供电公司 旗农商银行 中国移动阿右旗分公司 旗民政局"
).split()
_MOBILE = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 177, *range(180, 190), 198, 199]
_ROLES = ["leader", "fulltime", "parttime", "building", "volunteer"]


def staff_and_help_pairs(rng, hh, gr, cm, n_grid_hh):
    """Members with one assignment each, and help pairs for households in difficulty.

    Scaled from the demo town (44 grids): 3 grids in 44 lack a leader, 2 lack a full-time worker,
    56 full-time workers per 44 grids (extras in the largest grids), 1,380 volunteers per 15,000
    households, 90 help pairs per 15,000 households.
    """
    G, n = len(gr), len(hh)
    p = n_grid_hh / n_grid_hh.sum()
    leaders = np.sort(rng.choice(G, G - round(G * 3 / 44), replace=False))
    staffed = rng.choice(G, G - round(G * 2 / 44), replace=False)
    by_size = staffed[np.argsort(-n_grid_hh[staffed], kind="stable")]
    extra = np.resize(by_size, max(0, round(G * 56 / 44) - len(staffed)))
    fulltime = np.sort(np.concatenate([staffed, extra]))
    volunteer = np.repeat(np.arange(G), rng.multinomial(round(n * 1380 / 15_000), p))
    per_role = [leaders, fulltime, rng.choice(G, round(G * 0.5)), rng.choice(G, round(G * 1.5), p=p), volunteer]
    grid = np.concatenate(per_role)
    role = np.repeat(_ROLES, [len(r) for r in per_role])
    m = len(grid)
    party = rng.random(m) < np.select([role == r for r in _ROLES[:4]], [0.9, 0.6, 0.4, 0.35], 1.0)
    comm = gr.community_code.to_numpy()[grid]
    employer = np.where(role == "leader", pd.Series(comm).map(dict(zip(cm.code, cm.name))).to_numpy() + "居委会", "")
    in_service = (role == "volunteer") & (rng.random(m) < 0.45)
    employer[in_service] = np.array(_UNITS)[rng.integers(0, len(_UNITS), in_service.sum())]
    members = pd.DataFrame(
        {
            "mid": np.arange(m),
            "name": chinese_names(rng, rng.random(m) < 0.55),
            "phone": mobile_numbers(rng, m, n),
            "is_party_member": party,
            "employer": employer.astype(object),
            "community_code": comm,
        }
    )
    start = np.datetime64("2018-01-01") + rng.integers(0, 2_922, m)
    assignments = pd.DataFrame(
        {
            "mid": np.arange(m),
            "grid_code": gr.code.to_numpy()[grid],
            "role": role,
            "start_date": start.astype("datetime64[D]").astype(object),
        }
    )
    need = (hh.low_income | hh.hardship | hh.disabled | hh.elderly_alone).to_numpy()
    w = need * (1.0 + 2 * hh.hardship.to_numpy() + hh.low_income.to_numpy())
    hid = np.sort(rng.choice(n, min(round(n * 90 / 15_000), int(need.sum())), replace=False, p=w / w.sum()))
    vol = np.flatnonzero(role == "volunteer")  # sorted by grid
    start_at, count = np.searchsorted(grid[vol], np.arange(G)), np.bincount(grid[vol], minlength=G)
    g = hh["_g"].to_numpy()[hid]
    by_member = (rng.random(len(hid)) < 0.6) & (count[g] > 0)
    pick = vol[np.minimum(start_at[g] + (rng.random(len(hid)) * count[g]).astype(int), len(vol) - 1)]
    unit = np.array(_UNITS)[rng.integers(0, len(_UNITS), len(hid))].astype(object) + "党支部"
    help_pairs = pd.DataFrame(
        {
            "hid": hid,
            "mid": pd.array(np.where(by_member, pick, 0), dtype="Int64"),
            "unit": np.where(by_member, "", unit).astype(object),
        }
    )
    help_pairs.loc[~by_member, "mid"] = pd.NA
    return members, assignments, help_pairs


def chinese_names(rng, male):
    """Chinese names: a common surname and one or two given characters; some Mongolian names."""
    n = len(male)
    w = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.8
    name = np.array(list(_SURNAMES), dtype=_STR)[rng.choice(len(_SURNAMES), n, p=w / w.sum())]
    pools = [np.array(list(chars), dtype=_STR) for chars in _GIVEN]
    given = [
        np.where(male, pools[1][rng.integers(0, len(pools[1]), n)], pools[0][rng.integers(0, len(pools[0]), n)])
        for _ in range(2)
    ]
    name = np.strings.add(np.strings.add(name, given[0]), np.where(rng.random(n) < 0.65, given[1], ""))
    mongol = rng.random(n) < 0.12
    pools = [np.array(names, dtype=_STR) for names in _MONGOL]
    name[mongol] = np.where(
        male[mongol],
        pools[1][rng.integers(0, len(pools[1]), mongol.sum())],
        pools[0][rng.integers(0, len(pools[0]), mongol.sum())],
    )
    return name.astype(object)


def mobile_numbers(rng, n, offset):
    """Mobile numbers 1[3-9]x + 8 digits, unique over calls with disjoint ``offset`` ranges."""
    suffix = (np.arange(offset, offset + n, dtype=np.int64) * 7_654_321 + 1_234_567) % 100_000_000
    prefix = np.array(_MOBILE, dtype=np.int64)[rng.integers(0, len(_MOBILE), n)]
    return (prefix * 100_000_000 + rng.permutation(suffix)).astype(str).astype(object)


def id_numbers(rng, birth, male):
    """18-character resident ID numbers (GB 11643): area, birth date, sequence (odd = male), check digit."""
    n = len(birth)
    day = (birth - np.datetime64("1900-01-01")).astype(np.int64)
    seq = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):  # redraw the sequence numbers of repeated (birth date, sequence)
        seq[todo] = rng.integers(0, 499, len(todo)) * 2 + np.where(male[todo], 1, 2)
        key = day * 1000 + seq
        order = np.argsort(key, kind="stable")
        todo = order[1:][key[order][1:] == key[order][:-1]]
    date = np.strings.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    body = np.strings.add(np.strings.add(COUNTY, date), np.strings.zfill(seq.astype(str), 3))
    digits = body.astype("S17").view(np.uint8).reshape(n, 17).astype(np.int64) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.array(list("10X98765432"))[(digits @ weights) % 11]
    return np.strings.add(body, check).astype(object)
