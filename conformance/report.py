#!/usr/bin/python3
"""Coverage and pass-count report for conformance/README.md.

    /usr/bin/python3 conformance/report.py --results build/conformance/results-mqttwire.json \
        --results build/conformance/results-mosquitto.json [--write conformance/README.md]

Per component and version: statements cited anywhere in tests/, fuzz/, conformance/ (the
ci/normative_coverage.py rule) / total, and for broker-session/broker-routing the server-binding
ones; then per broker pass/fail/skip/expected-failure counts and the failures. With --write it
replaces the text between `<!-- report:begin -->` and `<!-- report:end -->`.
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ci"))
import normative_coverage as nc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", action="append", default=[])
    ap.add_argument("--write", default=None)
    ap.add_argument("--exempt", default=os.path.join(HERE, "not-observable.list"))
    a = ap.parse_args()
    table = nc.load_table(os.path.join(HERE, "..", "..", "shared", "normative.tsv"))
    cited = nc.find_citations()
    exempt = set()
    if os.path.exists(a.exempt):
        for line in open(a.exempt, encoding="utf-8"):
            m = nc.CITE.match(line.strip())
            if m:
                exempt.add(m.group(0))
    out = ["| component | version | cited / total | server-binding cited / total | + not observable |",
           "| --- | --- | --- | --- | --- |"]
    for comp in sorted({r["component"] for r in table.values()}):
        for ver in ("3.1.1", "5.0"):
            keys = [k for k, r in table.items() if r["component"] == comp and r["spec_version"] == ver]
            srv = [k for k in keys if table[k]["binds"] in ("server", "both")]
            c = sum(k in cited for k in keys)
            cs = sum(k in cited for k in srv)
            ex = sum(k in exempt and k not in cited for k in srv)
            out.append(f"| {comp} | {ver} | {c} / {len(keys)} | {cs} / {len(srv)} | {ex} |")
    out.append("")
    out.append("| broker | passed | failed | skipped | expected failures | seconds |")
    out.append("| --- | --- | --- | --- | --- | --- |")
    details = []
    for path in a.results:
        d = json.load(open(path))
        c = d["counts"]
        if d.get("transport", "tcp") != "tcp":
            d["broker"] += f" over {d['transport']}"
        out.append(f"| {d['broker']} | {c['passed']} | {c['failed']} | {c['skipped']} | {c['xfail']} | {d['seconds']} |")
        for r in d["results"]:
            if r["status"] in ("fail", "known", "xfail"):
                details.append(f"- {d['broker']}: `{r['name']}` ({r['status']}) [{' '.join(r['cites'])}]"
                               + (f" — {r['why']}" if r["why"] else f" — {r['detail']}"))
    out += ["", "Failures and expected failures:", ""] + (details or ["- none"])
    text = "\n".join(out) + "\n"
    if a.write:
        doc = open(a.write, encoding="utf-8").read()
        b, e = "<!-- report:begin -->\n", "<!-- report:end -->"
        i, j = doc.index(b) + len(b), doc.index(e)
        open(a.write, "w", encoding="utf-8").write(doc[:i] + text + doc[j:])
    else:
        print(text)


if __name__ == "__main__":
    main()
