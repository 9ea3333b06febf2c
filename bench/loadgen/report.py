#!/usr/bin/env python3
"""Aggregates the RESULT lines of ci/bench-brokers.sh: a console table, a markdown table and a
gnuplot script for the chart of ratios (ours / mosquitto, one bar per scenario, min..max)."""
import argparse
import statistics
from collections import OrderedDict, defaultdict

LOWER_IS_BETTER = {"p99", "us_per_msg", "rss_per_conn", "peak_rss", "us_per_conn"}


def parse(path):
    runs = []
    with open(path) as f:
        for line in f:
            if not line.startswith("RESULT"):
                continue
            kv = dict(tok.split("=", 1) for tok in line.split()[1:] if "=" in tok)
            runs.append(kv)
    return runs


def num(run, key, default=0.0):
    try:
        return float(run.get(key, default))
    except ValueError:
        return default


def metric_value(run, metric):
    if run.get("failed") == "1":
        return None
    if metric == "msgps":
        return num(run, "msgps")
    if metric == "mbps":
        return num(run, "mbps")
    if metric == "p99":
        return num(run, "p99_us")
    if metric == "us_per_msg":
        return num(run, "broker_us_per_msg")
    if metric == "rss_per_conn":
        return num(run, "bytes_per_conn")
    if metric == "us_per_conn":
        conns = num(run, "conns")
        return num(run, "broker_cpu_s") * 1e6 / (conns - 1) if conns and conns > 1 else None
    if metric == "peak_rss":
        return num(run, "broker_peak_rss_kb")
    return None


def fmt(v, digits=0):
    if v is None:
        return "-"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--machine", default="")
    ap.add_argument("--markdown")
    ap.add_argument("--gnuplot")
    ap.add_argument("--command", default="ci/bench-brokers.sh")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()

    runs = parse(a.raw)
    by = OrderedDict()
    for r in runs:
        by.setdefault(r["scenario"], defaultdict(list))[r["broker"]].append(r)

    header = ("| scenario | broker | msg/s | MB/s | lost | dup | p50 µs | p99 µs | max µs | "
              "broker µs/msg | broker CPU % | broker RSS MB | peak RSS MB | tool CPU % | metric | "
              "ours/mosquitto median (min..max) |")
    rows = [header, "|" + " --- |" * 16]
    chart = []
    loads = [num(r, "load") for r in runs]
    for scen, brokers in by.items():
        ratios = []
        ours_runs, mosq_runs = brokers.get("ours", []), brokers.get("mosquitto", [])
        metric = (ours_runs or mosq_runs)[0].get("metric", "msgps")
        for o, m in zip(sorted(ours_runs, key=lambda r: r["round"]),
                        sorted(mosq_runs, key=lambda r: r["round"])):
            vo, vm = metric_value(o, metric), metric_value(m, metric)
            if vo is not None and vm not in (None, 0):
                ratios.append(vo / vm)
        ratio_txt = "-"
        if ratios:
            ratio_txt = (f"**{statistics.median(ratios):.2f}** "
                         f"({min(ratios):.2f}..{max(ratios):.2f})")
            chart.append((scen, statistics.median(ratios), min(ratios), max(ratios), metric))
        for b in ("ours", "mosquitto"):
            rs = [r for r in brokers.get(b, []) if r.get("failed") != "1"]
            if not rs:
                rows.append(f"| {scen} | {b} | failed |" + " |" * 14)
                continue
            med = lambda k: statistics.median(num(r, k) for r in rs)
            if metric in ("rss_per_conn", "us_per_conn"):
                per_conn = statistics.median(metric_value(r, "us_per_conn") or 0 for r in rs)
                shown = (f"{per_conn:.0f} µs/conn" if metric == "us_per_conn"
                         else f"{med('bytes_per_conn'):.0f} B/conn")
                rows.append(f"| {scen} | {b} | {fmt(med('connect_per_s'))} conn/s | | | | | | | "
                            f"{per_conn:.0f} /conn | | {med('broker_rss_kb') / 1024:.1f} | | | "
                            f"{shown} | "
                            f"{ratio_txt if b == 'ours' else ''} |")
                continue
            tool_bound = any(r.get("tool_bound") == "1" for r in rs)
            lost = sum(int(num(r, "lost")) for r in rs)
            dup = sum(int(num(r, "dup")) for r in rs)
            lat = metric == "p99"
            rows.append(
                f"| {scen} | {b} | {fmt(med('msgps'))} | {med('mbps'):.1f} | {lost} | {dup} | "
                f"{fmt(med('p50_us'), 1) if lat else '-'} | {fmt(med('p99_us'), 1) if lat else '-'} | "
                f"{fmt(med('max_us'), 1) if lat else '-'} | {med('broker_us_per_msg'):.3f} | "
                f"{med('broker_cpu_pct'):.0f} | {med('broker_rss_kb') / 1024:.1f} | "
                f"{max(num(r, 'broker_peak_rss_kb') for r in rs) / 1024:.1f} | "
                f"{med('tool_cpu_pct'):.0f}{' **tool-bound**' if tool_bound else ''} | {metric} | "
                f"{ratio_txt if b == 'ours' else ''} |")
    # Scenarios of 5.0 subscribers: the bytes they read per message, and how many came by Topic
    # Alias alone (the broker's outbound aliases; mosquitto sends none).
    wire = [("| scenario | broker | subscriber bytes read per message | by alias alone % | msg/s |"),
            "| --- | --- | --- | --- | --- |"]
    for scen, brokers in by.items():
        for b in ("ours", "mosquitto"):
            rs = [r for r in brokers.get(b, []) if r.get("failed") != "1" and r.get("v5") == "1"]
            if rs:
                med = lambda k: statistics.median(num(r, k) for r in rs)
                wire.append(f"| {scen} | {b} | {med('rx_bytes_per_msg'):.1f} | "
                            f"{med('by_alias_pct'):.1f} | {fmt(med('msgps'))} |")
    if len(wire) > 2:
        rows += [""] + wire
    notes = [
        "",
        f"Command: `{a.command}`. Machine: {a.machine}. Load average while measuring: "
        f"{min(loads):.2f}..{max(loads):.2f}." if loads else "",
        "",
        "msg/s and MB/s are deliveries to subscribers over the measured window; lost and dup are "
        "summed over the rounds; other figures are medians over the rounds. Latency columns are "
        "shown for latency scenarios only (throughput scenarios run a closed loop of up to 1000 "
        "messages in flight per publisher, so their latency is queueing). The ratio is "
        "ours/mosquitto for the scenario's metric: higher is better for msgps/mbps, lower is "
        "better for p99, us_per_msg (broker CPU µs per delivered message), rss_per_conn "
        "(broker RSS growth per idle connection) and peak_rss (broker VmHWM; the peak RSS "
        "column is the highest over the rounds). **tool-bound**: the load generator used ≥ 90% "
        "of its core in some round, so that figure is a lower bound on the broker. Scenarios "
        "named -defaults run both brokers with their default settings (no max_queued_messages "
        "0): their lost column is what each broker dropped of what it acknowledged.",
    ]
    text = "\n".join(rows + notes) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("# Broker benchmark results (ci/bench-brokers.sh)\n\n")
            if a.smoke:
                f.write("Smoke run: every scenario once, briefly; the numbers mean nothing.\n\n")
            f.write("Chart: `broker-ratios.png` (ours/mosquitto per scenario, median with "
                    "min..max over the rounds).\n\n")
            f.write(text)
    if a.gnuplot:
        with open(a.gnuplot + ".dat", "w") as f:
            for i, (scen, med, lo, hi, metric) in enumerate(chart):
                f.write(f'{i} "{scen}\\n({metric})" {med} {lo} {hi}\n')
        with open(a.gnuplot + ".gp", "w") as f:
            f.write(f"""set terminal pngcairo size 1400,650 noenhanced
set output '{a.gnuplot}.png'
set title 'mqttwire-broker / mosquitto (median, min..max over rounds; msgps, mbps: higher is better; p99, us_per_msg, rss_per_conn, peak_rss: lower is better)'
set style fill solid 0.6
set boxwidth 0.6
set logscale y 2
set grid ytics
set ylabel 'ratio ours/mosquitto'
set xtics rotate by -35 font ',8'
set xrange [-0.7:{len(chart) - 0.3}]
set arrow from -0.7,1 to {len(chart) - 0.3},1 nohead lc rgb 'black'
plot '{a.gnuplot}.dat' using 1:3:xtic(2) with boxes lc rgb '#4682b4' title 'median', \\
     '' using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0 title 'min..max'
""")


if __name__ == "__main__":
    main()
