"""``python -m bench --size small|medium|large``: every core workload against its anchors, one run.

Builds the synthetic city (geodata.synth), loads it once into a fresh ``<dbname>_bench`` database,
measures each workload family, and writes bench/results/<size>.md and .json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

SIZES = {  # households, grids, stations, naive sample (households), naive sample (grids)
    "small": dict(households=10_000, grids=50, stations=20, naive=100, naive_grids=5),
    "medium": dict(households=100_000, grids=500, stations=200, naive=200, naive_grids=10),
    "large": dict(households=1_000_000, grids=5_000, stations=2_000, naive=300, naive_grids=10),
}
FAMILIES = ("layers", "coverage", "edit", "import", "assign", "what_if")
EXTRA = (
    "grid_editing",
    "open_api",
    "leader_view",
    "sealing",
    "planner_view",
    "concerns",
    "fitting",
)  # bench/<name>.py from other issues, run when present
SEED = 20261122


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per row after the warm-up (at least 5)")
    parser.add_argument("--only", default=",".join(FAMILIES), help=f"comma-separated subset of {','.join(FAMILIES)}")
    parser.add_argument(
        "--extra",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also run the workload modules of other issues ({', '.join(EXTRA)}); default: yes",
    )
    args = parser.parse_args(argv)
    if args.repeat < 5:
        parser.error("--repeat must be at least 5: medians of fewer runs are noise on these machines")
    only = set(args.only.split(","))
    size = SIZES[args.size]
    started = time.perf_counter()

    os.environ["DEBUG"] = "false"  # Django keeps every query's SQL in memory under DEBUG
    from bench.database import describe_machine, prepare

    url = prepare()
    print(f"bench database ready: {url.rsplit('@', 1)[-1]}", flush=True)

    from bench import assignment, coverage, importing, layers
    from bench.harness import Results, Row
    from geodata.synth import build_city
    from gridmap.services.accounts.demo_accounts import ensure_demo_accounts
    from gridmap.services.layers.city_loader import load_city

    params = {
        "households": size["households"],
        "grids": size["grids"],
        "stations": size["stations"],
        "seed": SEED,
        "repeat": args.repeat,
        "families": sorted(only),
    }
    results = Results(args.size, describe_machine(), params)
    n = size["households"]
    t = time.perf_counter()
    city = build_city(n, n_grids=size["grids"], n_stations=size["stations"], seed=SEED)
    results.add(
        Row(
            "set-up (once per run)",
            "geodata.synth.build_city",
            "info",
            n,
            [time.perf_counter() - t],
            note="single run, not a workload",
        )
    )
    t = time.perf_counter()
    counts = load_city(city)
    results.add(
        Row(
            "set-up (once per run)",
            "services.city_loader.load_city (COPY + rehome_households())",
            "info",
            n,
            [time.perf_counter() - t],
            note="single run, not a workload; "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k in ("grid", "household", "servicestation")),
        )
    )
    from django.db import connection

    with connection.cursor() as cursor:  # load_city analyses before it re-homes: fresh statistics,
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have them a minute later
    ensure_demo_accounts("bench-only-password")
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    admin, street_admin = users.get(username="admin"), users.get(username="jiedao")
    large = args.size == "large"

    if "layers" in only:
        layers.run(results, street_admin, repeat=args.repeat)
    if "coverage" in only:
        coverage.run(
            results, admin, households=n, repeat=args.repeat, textbook=not large, naive_grids=size["naive_grids"]
        )
    if "what_if" in only:  # issue #6: one moved station, before the assign family empties the grids
        from bench import what_if

        what_if.run(results, admin, households=n, repeat=args.repeat)
    if "edit" in only:
        assignment.run_edit(results, repeat=args.repeat)
    if "import" in only:
        importing.run(results, city, households=n, repeat=args.repeat, full=not large, naive_sample=size["naive"])
        importing.run_web_upload(results, street_admin, repeat=args.repeat)
    for name in EXTRA if args.extra else ():  # workload modules of other issues, each with run(results)
        _run_extra(name, results)
    if "assign" in only:  # last: it leaves every household without a grid
        assignment.run_assign_all(results, city, households=n, repeat=args.repeat, naive_sample=size["naive"])

    results.machine["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    md, js = results.write()
    print(f"wrote {md} and {js} in {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    return 0


def _run_extra(name: str, results) -> None:
    import importlib
    import traceback
    from pathlib import Path

    from bench.harness import Row

    if not (Path(__file__).parent / f"{name}.py").exists():
        return
    print(f"bench/{name}.py", flush=True)
    try:
        importlib.import_module(f"bench.{name}").run(results)
    except Exception as exc:  # another issue's module must not cost this run its results
        traceback.print_exc()
        results.add(Row(f"bench/{name}.py", "—", "missing", note=f"failed: {type(exc).__name__}: {exc}"[:200]))


if __name__ == "__main__":
    sys.exit(main())
