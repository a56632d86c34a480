"""A synthetic polygon layer shaped like a real one for the import benchmarks and tests (issue #16): a street-sized
block cut into ``nx`` × ``ny`` cells whose edges carry many vertices, with every shared edge drawn by both
neighbours from the same vertices moved a little, as two surveys of one boundary are. Pure shapely and numpy.

Examples
--------
>>> cells = tessellation(3, 2, vertices_per_edge=10)
>>> len(cells), all(c.is_valid for c in cells), int(sum(c.exterior.coords.__len__() for c in cells))
(6, True, 246)
"""

from __future__ import annotations

import numpy as np
import shapely

DEG_PER_M = 1 / 111_320  # one metre in degrees of latitude: the jitter's scale


def tessellation(nx: int, ny: int, *, vertices_per_edge: int = 167, cell_deg: tuple[float, float] = (0.002, 0.0015),
                 origin: tuple[float, float] = (111.0, 40.0), jitter_m: float = 0.01, seed: int = 1) -> list[shapely.Polygon]:  # fmt: skip
    """``nx`` × ``ny`` cells, row by row from the south-west; each edge has ``vertices_per_edge`` vertices (its
    start included) moved by about ``jitter_m`` metres, the same for both cells that share it. 15 × 20 cells of
    167 vertices per edge: 300 polygons, 200,700 vertices."""
    w, h = cell_deg
    x0, y0 = origin
    rng = np.random.default_rng(seed)
    edges: dict[tuple, np.ndarray] = {}

    def edge(a: tuple[int, int], b: tuple[int, int]) -> np.ndarray:
        """Grid corner ``a`` to corner ``b``: one drawing per shared edge, reversed for the other side."""
        if (b, a) in edges:
            return edges[(b, a)][::-1]
        t = np.linspace(0.0, 1.0, vertices_per_edge + 1)
        start = np.array([x0 + a[0] * w, y0 + a[1] * h])
        end = np.array([x0 + b[0] * w, y0 + b[1] * h])
        points = np.outer(1 - t, start) + np.outer(t, end)
        points[1:-1] += rng.normal(0.0, jitter_m * DEG_PER_M, (vertices_per_edge - 1, 2))
        edges[(a, b)] = points
        return points

    cells = []
    for j in range(ny):
        for i in range(nx):
            corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
            ring = np.vstack([edge(corners[k], corners[(k + 1) % 4])[:-1] for k in range(4)])
            cells.append(shapely.Polygon(ring))
    return cells
