"""bench/results/reliability_<size>.md from the run's figures: one table per scenario."""

from __future__ import annotations

TARGET_P95_MS = 500


def _load_table(summary: dict) -> list[str]:
    rows = [
        "| class | requests | req/s | p50 ms | p95 ms | p99 ms | 4xx | 5xx | no answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("read", "layer", "write", "all"):
        s = summary[kind]
        rows.append(
            f"| {kind} | {s['n']} | {s['rps']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | "
            f"{s['4xx']} | {s['5xx']} | {s['no_answer']} |"
        )
    return rows


def markdown(out: dict) -> str:
    m, p = out["machine"], out["params"]
    lines = [
        f"# Reliability runs — {out['size']}",
        "",
        f"{m['date']} · {m['cores']} cores, {m['ram_gb']} GB, {m['cpu']} · {m['postgresql']}, PostGIS "
        f"{m['postgis']} · {p['households']:,} households, {p['grids']} grids · gunicorn {p['workers']} sync "
        f"workers (DEBUG off) · {p['users']} virtual users, think time {p['think_s'][0]}–{p['think_s'][1]} s",
        "",
    ]
    for name, r in out["scenarios"].items():
        lines += [
            f"## {name}",
            "",
            f"Measured {r.get('measured_at', '?')}; load average of the shared machine "
            f"afterwards {r.get('load_average_after', '?')}.",
            "",
        ]
        if "summary" in r:
            lines += [f"{r['users']} users for {r['seconds']} s.", "", *_load_table(r["summary"]), ""]
            met = r["summary"]["all"]["p95_ms"] <= TARGET_P95_MS and r["summary"]["all"]["5xx"] == 0
            lines += [f"Target p95 ≤ {TARGET_P95_MS} ms and 0 × 5xx: **{'met' if met else 'NOT met'}**.", ""]
            a = r["audit"]
            lines += [
                f"Audit (T10): successes seen by the clients {a['done']}, rows added {a['added']}, "
                f"unanswered requests {a['unanswered']}: **{'exact' if a['exact'] else 'complete' if a['complete'] else 'INCOMPLETE'}**; "
                f"household PATCHes {r['patches']}.",
                "",
            ]
        if r.get("cpu_ms_per_request"):
            lines += [
                f"CPU per request (gunicorn workers + this cluster's PostgreSQL processes, from /proc): "
                f"**{r['cpu_ms_per_request']} ms**, i.e. about {2000 / r['cpu_ms_per_request']:.0f} req/s "
                f"on 2 otherwise idle cores; this run offered {r['summary']['all']['rps']} req/s.",
                "",
            ]
        if "per_operation" in r:
            lines += ["| operation | n | p95 ms |", "|---|---:|---:|"]
            lines += [f"| {k} | {v['n']} | {v['p95_ms']} |" for k, v in r["per_operation"].items()]
            lines.append("")
        if "fault" in r:
            f = r["fault"]
            lines += [
                f"Fault at {f['after_s']:.0f} s: {f['detail']}. Failed requests (no answer or 5xx) "
                f"{f['failed']}: 500 × {f['http_500']}, 503 × {f['http_503']}, no answer × {f['no_answer']}; "
                f"serving again {f['recovered_after_s']} s after the fault began.",
                "",
            ]
        if "rounds_detail" in r:
            ok = sum(x["ok"] for x in r["rounds_detail"])
            conflicts = sum(x["conflict"] for x in r["rounds_detail"])
            lines += [
                f"{r['rounds']} rounds × {r['writers']} concurrent saves of one grid with the same version: "
                f"{ok} × 200, {conflicts} × 412, other statuses "
                f"{sum(len(x['other']) for x in r['rounds_detail'])}; exactly one winner every round: "
                f"**{r['all_rounds_1_ok']}**; stored draft = winner's shape every round: "
                f"**{r['all_winners_stored']}**; lost updates: **{r['lost_updates']}**.",
                "",
            ]
    return "\n".join(lines) + "\n"
