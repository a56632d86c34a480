"""Timing, medians, memory and the results files.

Every row is timed the same way: one warm-up run (under tracemalloc, which gives the row's peak Python
memory and is otherwise discarded), then ``repeat`` timed runs with ``time.perf_counter`` around the
measured call only; set-up and tear-down (e.g. a rollback, a VACUUM) stay outside the clock. The
ratio of a project row is its median over the median of the anchor it names, measured in the same run.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    workload: str  # e.g. "assign all households to grids"
    approach: str  # e.g. "project: rehome_households()"
    kind: str  # project | anchor | naive | info | missing
    items: int = 0  # households (or features) handled per run: the throughput numerator
    samples: list[float] = field(default_factory=list)  # seconds, timed runs only
    peak_py_mb: float | None = None  # tracemalloc peak of the warm-up run
    anchor: str | None = None  # for project/naive rows: the approach string of the anchor to compare with
    parallel: int | None = None  # max_parallel_workers_per_gather used for this row (and its anchor)
    note: str = ""
    extrapolated: dict | None = None  # naive rows: {"sample": n, "to": N}

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def scaled(self, value: float | None) -> float | None:
        """Sample seconds → seconds for all ``items`` (naive rows run on a sample)."""
        if value is None or not self.extrapolated:
            return value
        return value * self.extrapolated["to"] / self.extrapolated["sample"]


def measure(
    fn: Callable[[], object],
    *,
    repeat: int = 5,
    setup: Callable[[], object] | None = None,
    teardown: Callable[[], object] | None = None,
) -> tuple[list[float], float]:
    """Run ``fn`` once as a warm-up under tracemalloc, then ``repeat`` times on the clock.

    Returns the timed samples (seconds) and the warm-up's peak traced Python memory (MB).
    """

    def once(trace: bool) -> float:
        if setup:
            setup()
        gc.collect()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        try:
            fn()
        finally:
            elapsed = time.perf_counter() - started
            if trace:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            if teardown:
                teardown()
        return peak / 1e6 if trace else elapsed

    peak_mb = once(trace=True)
    return [once(trace=False) for _ in range(repeat)], peak_mb


class Results:
    """Rows of one run, written as bench/results/<size>.md and .json."""

    def __init__(self, size: str, machine: dict, params: dict):
        self.size, self.machine, self.params, self.rows = size, machine, params, []
        self.started = time.perf_counter()

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        median = row.scaled(row.median)
        shown = f"{median:.4f} s" if median is not None else row.note
        print(f"  [{row.kind:7}] {row.workload} | {row.approach}: {shown}", flush=True)
        return row

    def ratio(self, row: Row) -> float | None:
        if not row.anchor or row.median is None:
            return None
        anchor = next((r for r in self.rows if r.workload == row.workload and r.approach == row.anchor), None)
        if anchor is None or not anchor.median:
            return None
        return row.scaled(row.median) / anchor.scaled(anchor.median)

    def write(self) -> tuple[Path, Path]:
        RESULTS.mkdir(exist_ok=True)
        elapsed = time.perf_counter() - self.started
        data = {
            "size": self.size,
            "params": self.params,
            "machine": self.machine,
            "wall_clock_s": round(elapsed, 1),
            "rows": [
                {
                    **asdict(r),
                    "median_s": r.scaled(r.median),
                    "min_s": r.scaled(min(r.samples)) if r.samples else None,
                    "max_s": r.scaled(max(r.samples)) if r.samples else None,
                    "ratio_to_anchor": self.ratio(r),
                }
                for r in self.rows
            ],
        }
        json_path, md_path = RESULTS / f"{self.size}.json", RESULTS / f"{self.size}.md"
        json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        md_path.write_text(self.markdown(elapsed))
        return md_path, json_path

    def markdown(self, elapsed: float) -> str:
        m, p = self.machine, self.params
        lines = [
            f"# Benchmark results: {self.size}",
            "",
            f"{p['households']:,} households, {p['grids']:,} grids, {p['stations']:,} stations "
            f"(geodata.synth.build_city, seed {p['seed']}); run on {m['date']}, {elapsed / 60:.1f} min wall clock.",
            f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, {m['postgresql']}, PostGIS "
            f"{m['postgis']}, Python {m['python']}. Session settings: "
            + ", ".join(f"{k}={v}" for k, v in m["server_settings"].items())
            + ".",
            "",
            "Median of the timed runs after one warm-up (min and max beside it); throughput = households "
            "(or features) per second at the median. Peak Py MB: tracemalloc peak of the Python side "
            "during the warm-up run (PostgreSQL's memory is not included). Ratio: project (or naive) "
            "median / the median of the anchor named in the note, same run. par: "
            "max_parallel_workers_per_gather for the row and its anchor. Naive rows run on a sample and "
            "are extrapolated linearly to the full size (marked ≈). The JSON beside this file has every sample.",
            "",
            "| Workload | Approach | Median | Min | Max | Runs | Throughput | Peak Py MB | Ratio | par | Note |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in self.rows:
            if r.kind == "missing" or not r.samples:
                lines.append(f"| {r.workload} | {r.approach} | — | — | — | 0 | — | — | — | — | {r.note} |")
                continue
            med, lo, hi = (r.scaled(v) for v in (r.median, min(r.samples), max(r.samples)))
            approx = "≈" if r.extrapolated else ""
            rate = f"{approx}{r.items / med:,.0f}/s" if r.items and med else "—"
            ratio = self.ratio(r)
            note = r.note + (
                f" (sample {r.extrapolated['sample']:,} → {r.extrapolated['to']:,})" if r.extrapolated else ""
            )
            if r.anchor:
                note = (note + "; " if note else "") + f"vs {r.anchor}"
            lines.append(
                f"| {r.workload} | {r.approach} | {approx}{_fmt(med)} | {approx}{_fmt(lo)} | {approx}{_fmt(hi)} "
                f"| {len(r.samples)} | {rate} | {_mb(r.peak_py_mb)} | {f'{ratio:.2f}' if ratio else ''} "
                f"| {'' if r.parallel is None else r.parallel} | {note} |"
            )
        lines.append("")
        return "\n".join(lines)


def _fmt(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"
