"""Fitting a real-sized polygon layer (issue #16 item 3): 300 polygons / 200,700 vertices
(geodata.synth_layers.tessellation 15 × 20), each validated and fitted against its community and the rows before
it, as the street, community and grid imports do. Target: ≤ 10 s.

Rows:
- anchor: every neighbouring pair's shared area from one STRtree query and a vectorised intersection (shapely):
  the core of any overlap check of the layer, with no snapping and no row order.
- project: ``validate_shape`` + ``fit_grid`` row after row with a growing ``SiblingIndex`` (what the imports run).

Run alone: ``DATABASE_URL=… .venv/bin/python -m bench.fitting`` (the fitting itself needs no database).
"""

from __future__ import annotations

import shapely

WORKLOAD = "validate and fit a polygon layer (300 polygons, 200,700 vertices)"


def run(results, repeat: int = 5) -> None:
    from bench.harness import Row, measure
    from bench.planner_view import _note
    from geodata.grid_fit import SiblingIndex, fit_grid
    from geodata.synth_layers import tessellation
    from geodata.validation import validate_shape

    cells = tessellation(15, 20)
    community = shapely.box(*shapely.total_bounds(cells)).buffer(1e-4, join_style="mitre")

    def pairs():
        tree = shapely.STRtree(cells)
        left, right = tree.query(cells, predicate="intersects")
        keep = left < right
        shapely.area(shapely.intersection([cells[i] for i in left[keep]], [cells[j] for j in right[keep]]))

    def fit_all():
        index = SiblingIndex()
        for n, cell in enumerate(cells):
            index.add(n, fit_grid(validate_shape(cell), community, index).geometry)

    anchor = "anchor: every neighbouring pair's shared area (one STRtree query, vectorised intersection)"
    results.add(Row(WORKLOAD, anchor, "anchor", len(cells), *measure(pairs, repeat=repeat)))
    samples, peak = measure(fit_all, repeat=repeat)
    results.add(Row(WORKLOAD, "project: validate_shape + fit_grid row after row (SiblingIndex)", "project",
                    len(cells), samples, peak, anchor=anchor, note=_note(samples, 10_000)))  # fmt: skip


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    django.setup()  # describe_machine reads the server's settings
    from bench.database import describe_machine
    from bench.harness import Results

    results = Results("fitting_300", describe_machine(), {"households": 0, "grids": 300, "stations": 0, "seed": 1})
    run(results)
    results.write()


if __name__ == "__main__":
    main()
