"""Class breaks for a choropleth, computed on the server with mapclassify (pure: no Django).

``classify(values)`` returns the upper bounds of the classes and each value's class index. Fisher-Jenks
is the deterministic form of natural breaks (mapclassify's ``NaturalBreaks`` runs k-means from a random
start, so two requests could draw two different maps); quantiles are offered for skewed figures.
With fewer distinct values than classes, every distinct value is its own class.

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

SCHEMES = {"fisher_jenks": mapclassify.FisherJenks, "quantiles": mapclassify.Quantiles}


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
    with warnings.catch_warnings():  # quantiles warns when ties merge two bins; we drop duplicates below
        warnings.simplefilter("ignore")
        result = SCHEMES[scheme](y, k=k)
    bins = np.unique(np.asarray(result.bins, dtype=np.float64))
    classes = np.minimum(np.searchsorted(bins, y, side="left"), bins.size - 1)
    return {"scheme": scheme, "bins": bins.tolist(), "classes": classes.tolist()}
