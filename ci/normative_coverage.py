#!/usr/bin/env python3
"""Reports which numbered normative statements of MQTT 3.1.1 and 5.0 the tests cite.

Reads ../shared/normative.tsv (id, spec_version, section, binds, component, paraphrase) and every
test source (tests/, fuzz/, conformance/). A citation is `MQTT-x.y.z-n` for a 3.1.1 statement and
`MQTT5-x.y.z-n` for a 5.0 statement (the two specs reuse ids with different meanings).

Prints, per component, how many statements are cited and lists the ones that are not. Exits 1
when a component named with --require has an uncited statement, or when a test cites an id that
the table does not have (a typo cites nothing).

    python3 ci/normative_coverage.py                  # report only
    python3 ci/normative_coverage.py --require codec  # what the test suite enforces
    python3 ci/normative_coverage.py --list codec     # every codec statement and where it is cited
"""

import argparse
import csv
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CITE = re.compile(r"\bMQTT(5?)-(\d+(?:\.\d+)*-\d+)\b")
SOURCES = ("tests", "fuzz", "conformance")
SUFFIXES = {".cpp", ".hpp", ".h", ".vec", ".scn", ".py", ".js", ".sh", ".txt", ".json", ".yaml"}


def load_table(path):
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            prefix = "MQTT5-" if row["spec_version"] == "5.0" else "MQTT-"
            key = prefix + row["id"].split("-", 1)[1]
            rows[key] = row
    return rows


def find_citations():
    cited = {}
    for top in SOURCES:
        base = ROOT / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.suffix not in SUFFIXES:
                continue
            if "node_modules" in path.parts:  # third-party packages (conformance/clients/node)
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for lineno, line in enumerate(text.splitlines(), 1):
                for m in CITE.finditer(line):
                    key = ("MQTT5-" if m.group(1) else "MQTT-") + m.group(2)
                    cited.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{lineno}")
    return cited


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default=str(ROOT.parent / "shared" / "normative.tsv"))
    ap.add_argument("--require", action="append", default=[],
                    help="fail when this component has an uncited statement")
    ap.add_argument("--exempt", default=None,
                    help="file listing statements not observable from outside (`ID  reason` "
                         "lines); they count as covered and are reported separately")
    ap.add_argument("--list", action="append", default=[],
                    help="print every statement of this component with its citations")
    args = ap.parse_args()

    table = load_table(args.table)
    cited = find_citations()
    exempt = {}
    if args.exempt:
        with open(args.exempt, encoding="utf-8") as f:
            for line in f:
                m = CITE.match(line.strip())
                if m:
                    exempt[m.group(0)] = line.strip()[m.end():].strip()
    failed = False

    unknown = sorted(k for k in cited if k not in table)
    if unknown:
        failed = True
        print("citations of ids that are not in the table:")
        for k in unknown:
            print(f"  {k}  ({', '.join(cited[k][:3])})")

    components = {}
    for key, row in table.items():
        components.setdefault(row["component"], []).append(key)

    for comp in sorted(components):
        keys = components[comp]
        done = [k for k in keys if k in cited]
        missing = [k for k in keys if k not in cited and k not in exempt]
        n_exempt = sum(1 for k in keys if k not in cited and k in exempt)
        v311 = sum(1 for k in keys if k.startswith("MQTT-"))
        print(f"{comp}: {len(done)}/{len(keys)} cited "
              f"({v311} statements of 3.1.1, {len(keys) - v311} of 5.0)"
              + (f", {n_exempt} exempt (not observable)" if n_exempt else ""))
        if comp in args.require and missing:
            failed = True
        if missing and (comp in args.require or comp in args.list):
            for k in missing:
                print(f"  uncited {k}: {table[k]['paraphrase']}")
        if comp in args.list:
            for k in done:
                print(f"  {k}: {', '.join(cited[k][:4])}")

    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
