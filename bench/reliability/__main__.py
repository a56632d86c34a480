"""``python -m bench.reliability --scenario all|mixed,concurrent-edits,db-restart,hup,term --size small|medium``

Load and fault runs (security.md (d) T3, T7, T9, T10) against gunicorn with production-like settings
(bench/reliability/server.py) on a fresh ``<dbname>_bench`` database loaded with geodata.synth +
services.city_loader, as ``python -m bench`` makes it. Writes bench/results/reliability_<size>.md and .json.

The PostgreSQL restart (``db-restart``) runs ``pg_ctlcluster <cluster> restart`` and so needs
``--pg-cluster "15 main"`` (or another cluster) given explicitly: it cuts every session on that server,
other users' included. Point DATABASE_URL at a cluster of your own to run it on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SIZES = {
    "small": dict(households=10_000, grids=50, stations=20),
    "medium": dict(households=100_000, grids=500, stations=200),
}
SCENARIOS = ("mixed", "concurrent-edits", "db-restart", "hup", "term")
SEED = 20261122
RESULTS = Path(__file__).resolve().parent.parent / "results"


def _setup(size: dict) -> str:
    os.environ["DEBUG"] = "false"
    from bench.database import prepare

    url = prepare()
    from django.db import connection

    from geodata.synth import build_city
    from gridmap.services.layers.city_loader import load_city

    load_city(build_city(size["households"], n_grids=size["grids"], n_stations=size["stations"], seed=SEED))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return url


def _strip(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "samples"}


def _per_name(result: dict) -> dict:
    """p95 per operation name, to find the slow one when a class misses its target."""
    from bench.reliability.load import percentile

    names: dict[str, list[float]] = {}
    for s in result["samples"]:
        names.setdefault(s.name, []).append(s.seconds * 1000)
    return {n: {"n": len(v), "p95_ms": round(percentile(v, 95), 1)} for n, v in sorted(names.items())}


def run(args) -> dict:
    from bench.database import describe_machine
    from bench.reliability import scenarios
    from bench.reliability.server import Gunicorn, cpu_seconds

    size = SIZES[args.size]
    url = _setup(size)
    personas = scenarios.personas_for(args.users)
    out = {
        "size": args.size,
        "params": {
            **size,
            "users": len(personas),
            "workers": args.workers,
            "seconds": args.seconds,
            "think_s": [1.0, 3.0],
        },
        "machine": describe_machine(),
        "scenarios": {},
    }
    todo = SCENARIOS if args.scenario == "all" else tuple(args.scenario.split(","))
    if set(todo) - set(SCENARIOS):
        raise SystemExit(f"unknown scenario: {', '.join(sorted(set(todo) - set(SCENARIOS)))}")
    with Gunicorn(url, workers=args.workers) as server:
        for name in todo:
            print(f"scenario {name} …", flush=True)
            started = time.monotonic()
            if name == "mixed":
                marker = f"{args.pg_cluster.replace(' ', '/')}:" if args.pg_cluster else "postgres:"
                result = scenarios.mixed(
                    server.base, personas, seconds=args.seconds, cpu=lambda: cpu_seconds(server, marker)
                )
                result["per_operation"] = _per_name(result)
            elif name == "concurrent-edits":
                grid = personas[0].grid
                result = scenarios.concurrent_edits(
                    server.base, grid, scenarios.street_admin_for(grid), writers=20, rounds=args.rounds
                )
            elif name == "db-restart":
                if not args.pg_cluster:
                    print("  skipped: needs --pg-cluster (it restarts the whole PostgreSQL server)", flush=True)
                    continue
                result = scenarios.under_fault(
                    server.base,
                    personas,
                    lambda: scenarios.restart_postgresql(args.pg_cluster),
                    seconds=args.fault_seconds,
                    fault_after=args.fault_seconds / 3,
                )
            elif name == "hup":
                result = scenarios.under_fault(
                    server.base,
                    personas,
                    lambda: scenarios.hup(server),
                    seconds=args.fault_seconds,
                    fault_after=args.fault_seconds / 3,
                )
            else:
                result = scenarios.under_fault(
                    server.base,
                    personas,
                    lambda: scenarios.term_and_restart(server),
                    seconds=args.fault_seconds,
                    fault_after=args.fault_seconds / 3,
                )
            result["wall_s"] = round(time.monotonic() - started, 1)
            result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            result["load_average_after"] = os.getloadavg()  # the machine is shared: say how busy it was
            out["scenarios"][name] = _strip(result)
            print(json.dumps(_strip(result), ensure_ascii=False, default=str)[:1500], flush=True)
    return out


def write(out: dict) -> Path:
    from bench.reliability.report import markdown

    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"reliability_{out['size']}"
    if stem.with_suffix(".json").exists():  # a run of one scenario keeps the others' last figures
        earlier = json.loads(stem.with_suffix(".json").read_text())
        out = {**out, "scenarios": {**earlier.get("scenarios", {}), **out["scenarios"]}}
    stem.with_suffix(".json").write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))
    stem.with_suffix(".md").write_text(markdown(out))
    return stem.with_suffix(".md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="all", help=f"all, or a comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("--users", type=int, default=50, help="virtual users (one grid worker account each)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (docker-compose: 3)")
    parser.add_argument("--seconds", type=float, default=120, help="length of the mixed-load run")
    parser.add_argument("--fault-seconds", type=float, default=60, help="length of each fault run")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 20 concurrent grid saves")
    parser.add_argument("--pg-cluster", default="", help='e.g. "15 main": the cluster db-restart restarts')
    args = parser.parse_args(argv)
    print(f"wrote {write(run(args))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
