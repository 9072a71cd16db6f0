"""Health columns added to the 200-device SNMP poll benchmark (issue 18), against snmp_exporter.

sigap: the warm cycle of ``snmp_poll.py ... health`` (every device's nine IF-MIB columns, then
its health columns through ``SnmpCollector.poll_health``) on the lab of
:mod:`snmp_bench` (net-snmp agents with the Linux sysObjectID: sigap asks the generic
HOST-RESOURCES and ENTITY-SENSOR columns). snmp_exporter 0.21: module ``if_9col_health``, the
same nine columns plus the same eight health columns (``conf/snmp_exporter.yml``). Target:
sigap CPU <= 0.5 x snmp_exporter's in the same run. The plain nine-column pair runs alongside
for reference. v2c only (v3 costs the same per value on both sides, see RESULTS.md).

Usage (root, under ``flock /work/lab.lock``): python -m tests.bench.health_bench [--runs N]
"""

from __future__ import annotations

import argparse
import sys

try:  # run as a module or by pytest from tests/bench
    from tests.bench import snmp_bench as sb
    from tests.bench.results import replace_section
except ImportError:  # pragma: no cover
    import snmp_bench as sb  # type: ignore[no-redef]
    from results import replace_section  # type: ignore[no-redef]

CPU_TARGET = 0.5
SECTION = "SNMP health columns (issue 18): 200 devices, 9 IF-MIB + 8 health columns, v2c"


def contenders() -> list[sb.Contender]:
    """The four contenders: sigap and the exporter, with and without the health columns."""
    label = "snmp_exporter 0.21 {} v2c + curl -Z"
    return [
        sb.Contender("sigap-v2c", "sigap v2c (9 columns)", "v2c", "sigap"),
        sb.Contender(
            "sigap-health-v2c", "sigap v2c (9 columns + health)", "v2c", "sigap", "health"
        ),
        sb.Contender(
            "exporter-9col-v2c",
            label.format("9-column module"),
            "v2c",
            "exporter",
            "if_9col",
            sb.Daemon(9126),
        ),
        sb.Contender(
            "exporter-9col-health-v2c",
            label.format("if_9col_health module (9 + 8 health columns)"),
            "v2c",
            "exporter",
            "if_9col_health",
            sb.Daemon(9127),
        ),
    ]


def run_bench(runs: int) -> tuple[list[sb.Contender], str]:
    """Build the lab, run the contenders interleaved (warm-up + ``runs``), tear it down."""
    cs = contenders()
    with sb.lab("h") as lb:
        sb.prepare(lb, cs)
        try:
            for c in cs:
                if c.daemon:
                    sb.start_daemon(lb, c)
            for c in cs:
                sb.run_once(lb, c)  # warm-up, not counted
                c.checks.clear()
            for i in range(runs):
                for c in cs:
                    c.runs.append(sb.run_once(lb, c))
                    r = c.runs[-1]
                    cpu = r.get("c2_cpu", r["cpu"])
                    print(f"run {i + 1}/{runs} {c.id:26s} cpu {cpu:.3f}s", flush=True)
        finally:
            sb.stop_daemons(cs)
        return cs, lb.want()


def ratios(cs: list[sb.Contender]) -> dict[str, float]:
    """sigap's warm cycle CPU and wall over the exporter's, with and without health."""
    by = {c.id: c for c in cs}
    out = {}
    for sigap, exporter, tag in (
        ("sigap-health-v2c", "exporter-9col-health-v2c", "9 + health"),
        ("sigap-v2c", "exporter-9col-v2c", "9 columns"),
    ):
        s, e = by[sigap], by[exporter]
        out[f"{tag}: cpu sigap/exporter"] = s.med("c2_cpu") / e.med("cpu")
        out[f"{tag}: wall sigap/exporter"] = s.med("c2_wall") / e.med("wall")
    s, e = by["sigap-health-v2c"], by["sigap-v2c"]
    out["sigap: health columns' extra cpu (ratio to 9 columns)"] = s.med("c2_cpu") / e.med("c2_cpu")
    e1, e2 = by["exporter-9col-health-v2c"], by["exporter-9col-v2c"]
    out["exporter: health columns' extra cpu (ratio)"] = e1.med("cpu") / e2.med("cpu")
    return out


def table(cs: list[sb.Contender], want: str) -> str:
    """Markdown: per contender CPU and wall (sigap: warm cycle), checks, then the ratios."""
    rows = [
        "| Tool | CPU s median (warm cycle for sigap) | Wall s median | SNMP-agent CPU s "
        "| Runs | Check |",
        "|---|---|---|---|---|---|",
    ]
    for c in cs:
        key = "c2_" if c.kind == "sigap" else ""
        agents = c.med(f"{key}agents" if key else "agents_cpu")
        rows.append(
            f"| {c.label} | {c.med(key + 'cpu'):.3f} | {c.med(key + 'wall'):.3f} "
            f"| {agents:.2f} | {len(c.runs)} | {'; '.join(sorted(c.checks))} |"
        )
    rows += ["", f"Expected: {want} (and health_ok=200 where health is polled).", ""]
    rows += ["| Ratio | Value | Target |", "|---|---|---|"]
    for k, v in ratios(cs).items():
        target = f"<= {CPU_TARGET}" if k == "9 + health: cpu sigap/exporter" else "-"
        rows.append(f"| {k} | {v:.2f} | {target} |")
    met = ratios(cs)["9 + health: cpu sigap/exporter"] <= CPU_TARGET
    rows += [
        "",
        f"Target (CPU <= {CPU_TARGET} x with health columns): {'met' if met else 'MISSED'}",
    ]
    return "\n".join(rows)


def correct(cs: list[sb.Contender], want: str) -> list[str]:
    """Contenders whose every run did not return every value (health: every device too)."""
    bad = []
    for c in cs:
        expect = want + (f" health_ok={sb.N_DEVICES}" if "health" in c.module else "")
        if c.checks != {expect}:
            bad.append(f"{c.id}: {sorted(c.checks)}")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    a = ap.parse_args()
    where = sb.machine()
    cs, want = run_bench(a.runs)
    text = table(cs, want)
    print(f"\n{where}\n\n{text}")
    bad = correct(cs, want)
    if bad:
        print("WRONG RESULTS: " + ", ".join(bad))
    if not a.no_write:
        replace_section(
            SECTION,
            f"Machine: {where}.\n\nProduced by `python -m tests.bench.health_bench --runs "
            f"{a.runs}` on the lab of the SNMP poll benchmark above (same 200 net-snmp agents, "
            "same timeouts and max-repetitions 25); contenders interleaved, medians. sigap's "
            "figure is its warm cycle (interfaces, then health, all 200 devices at once), the "
            "exporter's is its CPU plus curl's for one scrape of every device.\n\n"
            f"{text}\n",
        )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
