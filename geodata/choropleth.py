"""Class breaks for a choropleth, computed on the server (pure: no Django).

``classify(values)`` returns the upper bounds of the classes and each value's class index. Fisher-Jenks
is the deterministic form of natural breaks (mapclassify's ``NaturalBreaks`` runs k-means from a random
start, so two requests could draw two different maps); quantiles (mapclassify) are offered for skewed figures.
With fewer distinct values than classes, every distinct value is its own class.

Fisher-Jenks is our own dynamic programme in numpy (``_fisher_jenks``): mapclassify's pure-Python one took 7–11 s
for 2,000 grids, past a request's budget. More than ``JENKS_SAMPLE`` values are first reduced to that many
evenly spaced quantiles (deterministic, the minimum and maximum kept), on which the breaks are optimal.

>>> classify([1, 2, 2, 10, 11, 50], k=3)
{'scheme': 'fisher_jenks', 'bins': [2.0, 11.0, 50.0], 'classes': [0, 0, 0, 1, 1, 2]}
>>> classify([3, 3, 3], k=5)
{'scheme': 'unique', 'bins': [3.0], 'classes': [0, 0, 0]}
>>> classify([])
{'scheme': 'none', 'bins': [], 'classes': []}
"""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np

SCHEMES = ("fisher_jenks", "quantiles")
JENKS_SAMPLE = 1000


def _fisher_jenks(values: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of the ``k`` classes of least total within-class squared deviation (values sorted).

    >>> _fisher_jenks(np.array([1.0, 2, 2, 10, 11, 50]), 3).tolist()
    [2.0, 11.0, 50.0]
    """
    y = values if values.size <= JENKS_SAMPLE else np.quantile(values, np.linspace(0, 1, JENKS_SAMPLE))
    n = y.size
    s1, s2 = np.concatenate([[0.0], np.cumsum(y)]), np.concatenate([[0.0], np.cumsum(y * y)])
    start, end = np.arange(n)[:, None], np.arange(n)[None, :]
    count = end - start + 1
    with np.errstate(divide="ignore", invalid="ignore"):  # count <= 0 below the diagonal: not a segment
        ssd = np.where(count > 0, (s2[end + 1] - s2[start]) - (s1[end + 1] - s1[start]) ** 2 / count, np.inf)
    cost = ssd[0]  # one class holding y[0..j]
    starts = []
    for _ in range(1, k):  # the last class starts at i (1..j); the ones before end at i - 1
        total = cost[:-1, None] + ssd[1:, :]
        best = np.argmin(total, axis=0)
        cost = total[best, np.arange(n)]
        starts.append(best + 1)
    bounds, j = [], n - 1
    for first in reversed(starts):
        bounds.append(y[j])
        j = first[j] - 1
    bounds.append(y[j])
    return np.array(bounds[::-1])


def classify(values, k: int = 5, scheme: str = "fisher_jenks") -> dict:
    """Classes of ``values`` (finite numbers); ``bins[i]`` is the upper bound (inclusive) of class i."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}")
    y = np.asarray(values, dtype=np.float64)
    if y.size == 0:
        return {"scheme": "none", "bins": [], "classes": []}
    distinct = np.unique(y)
    if distinct.size <= k:
        return {"scheme": "unique", "bins": distinct.tolist(), "classes": np.searchsorted(distinct, y).tolist()}
    if scheme == "quantiles":
        with warnings.catch_warnings():  # quantiles warns when ties merge two bins; we drop duplicates below
            warnings.simplefilter("ignore")
            bins = np.unique(np.asarray(mapclassify.Quantiles(y, k=k).bins, dtype=np.float64))
        if bins.size >= min(3, k):
            return _classes(y, bins, "quantiles")
        # Ties collapsed the quantiles (most grids at 100 %, say) into one or two classes: natural breaks
        # instead, and the answer says so (``fallback``), so the legend can tell the planner why.
        found = _classes(y, np.unique(_fisher_jenks(np.sort(y), k)), "fisher_jenks")
        return {**found, "fallback": "quantiles"}
    return _classes(y, np.unique(np.asarray(_fisher_jenks(np.sort(y), k), dtype=np.float64)), "fisher_jenks")


def _classes(y: np.ndarray, bins: np.ndarray, scheme: str) -> dict:
    classes = np.minimum(np.searchsorted(bins, y, side="left"), bins.size - 1)
    return {"scheme": scheme, "bins": bins.tolist(), "classes": classes.tolist()}
