"""Fitting with a spatial index (issue #16 item 3): geodata.grid_fit.SiblingIndex finds exactly the neighbours a
brute-force envelope test finds, as rows are added, replaced and excluded; and fitting a file's rows one after the
other never creates an overlap the input did not have (hypothesis: shared edges with centimetre jitter, corners
that nearly touch, small true overlaps). Pure shapely: no database."""

from __future__ import annotations

import itertools

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.grid_fit import SiblingIndex, fit_grid
from geodata.topology import geodesic_area_m2
from geodata.validation import GeometryRejected, validate_shape

DEG_PER_M = 1 / 111_000  # near enough at the equator-ish test latitude for generating shapes


def _brute(shapes: dict, geom, margin) -> list:
    minx, miny, maxx, maxy = geom.bounds
    box = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)
    return sorted(k for k, g in shapes.items() if shapely.intersects(shapely.envelope(g), box))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.001, 0.2), st.floats(0.001, 0.2)),
                min_size=1, max_size=150),
       st.lists(st.integers(0, 149), max_size=20), st.floats(0, 1), st.floats(0, 1))  # fmt: skip
def test_the_index_finds_what_a_brute_force_envelope_test_finds(boxes, replaced, qx, qy):
    index, shapes = SiblingIndex(), {}
    for i, (x, y, w, h) in enumerate(boxes):
        index.add(i, shapely.box(x, y, x + w, y + h))
        shapes[i] = shapely.box(x, y, x + w, y + h)
    for i in replaced:  # an id added again replaces its shape
        if i in shapes:
            index.add(i, shapely.box(qx, qy, qx + 0.01, qy + 0.01))
            shapes[i] = shapely.box(qx, qy, qx + 0.01, qy + 0.01)
    query = shapely.box(qx, qy, qx + 0.05, qy + 0.05)
    assert sorted(index.near(query, 0.001)) == _brute(shapes, query, 0.001)
    assert dict(index) == shapes
    first = next(iter(shapes))
    without = index.excluding(first)
    assert first not in without.near(query, 1.0) and len(without) == len(shapes) - 1


def _row(i: int, jitter: list[float], shift_m: float) -> shapely.Polygon:
    """The i-th of a row of 100 m squares sharing edges; the shared edges' inner vertices moved by ``jitter``
    (metres, each polygon its own), the whole square moved right by ``shift_m`` (a true overlap)."""
    w = 100 * DEG_PER_M
    x0 = 116.0 + i * w + shift_m * DEG_PER_M
    y0 = 39.9
    steps = len(jitter)
    left = [(x0 + jitter[k] * DEG_PER_M, y0 + w * (steps - k) / (steps + 1)) for k in range(steps)]
    right = [(x0 + w + jitter[k] * DEG_PER_M, y0 + w * (k + 1) / (steps + 1)) for k in range(steps)]
    return shapely.Polygon([(x0, y0), (x0 + w, y0), *right, (x0 + w, y0 + w), (x0, y0 + w), *left])


def _overlap(a, b) -> float:
    return geodesic_area_m2(a.intersection(b)) if a.intersects(b) else 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.lists(st.floats(-0.05, 0.05), min_size=3, max_size=3),
       st.lists(st.floats(0, 3), min_size=6, max_size=6), st.data())  # fmt: skip
def test_fitting_row_after_row_never_makes_an_overlap_the_input_did_not_have(n, base, shifts, data):
    inputs = []
    for i in range(n):
        jitter = [j + data.draw(st.floats(-0.03, 0.03)) for j in base]
        shift = shifts[i] if data.draw(st.booleans()) else 0.0
        inputs.append(_row(i, jitter, shift))
    community = shapely.box(115.99, 39.89, 116.02, 39.92)
    index, fitted = SiblingIndex(), {}
    for i, shape in enumerate(inputs):
        try:
            fit = fit_grid(validate_shape(shape), community, index)
        except GeometryRejected:
            continue  # a true overlap is refused: nothing to compare
        index.add(i, fit.geometry)
        fitted[i] = fit.geometry
    for a, b in itertools.combinations(fitted, 2):
        before = _overlap(inputs[a], inputs[b])
        after = _overlap(fitted[a], fitted[b])
        assert after <= max(before, 1.0) + 0.01, (a, b, before, after)


def test_a_real_sized_layer_fits_whole():
    """The benchmark's layer (bench/fitting.py): 300 polygons, 200,700 vertices, edges drawn alike by both
    neighbours; every row fits against those before it and the fitted layer keeps the input's area."""
    from geodata.synth_layers import tessellation

    cells = tessellation(15, 20)
    assert len(cells) == 300 and sum(shapely.get_num_coordinates(c) for c in cells) == 200_700
    community = shapely.box(*shapely.total_bounds(cells)).buffer(1e-4, join_style="mitre")
    index = SiblingIndex()
    for n, cell in enumerate(cells):
        index.add(n, fit_grid(validate_shape(cell), community, index).geometry)
    before, after = geodesic_area_m2(shapely.union_all(cells)), sum(geodesic_area_m2(g) for g in index.values())
    assert abs(after - before) < 1.0 * len(cells)  # no piece lost or doubled beyond the 1 m² tolerance per row
