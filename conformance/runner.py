#!/usr/bin/python3
"""mqttwire conformance runner: the same scenarios against any MQTT broker at host:port.

    /usr/bin/python3 conformance/runner.py --host 127.0.0.1 --port 1883 --broker-name mqttwire \\
        [--auth-port 1884] [--known-failures conformance/known-failures.txt] [--json out.json] \\
        [-k SUBSTRING] [--list] [--transport tcp|tls|ws|wss --cafile ca.pem] [--ws-split N]

Scenarios live in conformance/scenarios/: `*.py` modules register scripted scenarios with
`@scenario(...)`, `*.scn` files hold raw byte exchanges as data (see scenarios/README in
conformance/README.md). Every scenario names the normative statements it exercises.

The auth port is a second listener (or instance) configured with the password file and ACL file
that ci/conformance.sh generates (users and rules in conformance/scenarios/auth.py); without it
the authentication scenarios are skipped.

--transport makes every client of every scenario connect over TLS, WebSocket (RFC 6455, path
/mqtt, subprotocol mqtt) or WebSocket over TLS instead of plain TCP (--port and --auth-port are
then listeners of that transport; --cafile verifies the server certificate, --certfile and
--keyfile give every client a certificate for listeners that require one). Clients that cannot
use the transport (mosquitto_pub/sub over WebSocket, mqttwire-pub/sub and the cutting proxy over
anything but TCP) make their scenario SKIP with that reason. Before any scenario runs, one
connection probes the transport: a broker that does not serve it is one loud failure
(`FAIL transport-<name>-served`), not a run of skips.

Prints one line per scenario and ends with `N passed, M failed, S skipped, X expected failures`.
A scenario marked `expected-to-fail-on: <broker>` that fails on that broker counts as an
expected failure; a failure listed in --known-failures (for this broker) is reported as
`FAIL (known)` and still counted as failed. Exit status 1 when a failure is neither.
"""

import argparse
import glob
import importlib.util
import json
import os
import random
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "clients"))

import harness  # noqa: E402
import mqttcodec  # noqa: E402
import rawscn  # noqa: E402
import transport  # noqa: E402


def load_scenarios(vectors_dir):
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "*.py"))):
        spec = importlib.util.spec_from_file_location(
            "scn_" + os.path.basename(path)[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    vectors = rawscn.load_vectors(vectors_dir)
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "*.scn"))):
        rawscn.load_file(path, vectors)
    names = [s["name"] for s in harness.SCENARIOS]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise SystemExit(f"duplicate scenario names: {sorted(dups)}")
    return harness.SCENARIOS


def load_known(path, broker, transport="tcp"):
    """Lines: `scenario-name  reason` (optionally `broker:scenario-name  reason`, or
    `broker/transport:scenario-name  reason` for one transport)."""
    known = {}
    if not path or not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if ":" in name:
                b, name = name.split(":", 1)
                if b not in (broker, f"{broker}/{transport}"):
                    continue
            known[name] = reason.strip()
    return known


def probe_transport(args):
    """None when a CONNECT over the transport gets a CONNACK, else why not."""
    try:
        c = mqttcodec.RawClient(args.host, args.port, 4, 5.0)
    except Exception as e:  # noqa: BLE001 - any failure to connect is the answer
        return f"{type(e).__name__}: {e}"
    try:
        c.send(mqttcodec.connect(f"cfprobe{os.getpid()}", 4, True, 10))
        try:
            ack = c.recv(5.0)
        except mqttcodec.Closed:
            return "the server closed the connection before CONNACK"
        if ack is None or ack.type != mqttcodec.CONNACK:
            return f"no CONNACK over {args.transport} (got {ack!r})"
        c.send(mqttcodec.disconnect(4))
        return None
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    finally:
        c.close()


def run_one(sc, args, run_id, index):
    ctx = harness.Context(args.host, args.port, args.auth_port, args.broker_name, run_id, index,
                          sc["name"])
    ctx.tools_dir = args.tools_dir
    outcome = {}

    def body():
        try:
            sc["fn"](ctx)
            outcome["status"] = "pass"
        except harness.Skip as e:
            outcome["status"] = "skip"
            outcome["detail"] = str(e)
        except AssertionError as e:
            outcome["status"] = "fail"
            outcome["detail"] = str(e) or "assertion failed"
        except Exception as e:  # noqa: BLE001 - any error is a failed scenario
            outcome["status"] = "fail"
            outcome["detail"] = f"{type(e).__name__}: {e}"
            if args.verbose:
                outcome["detail"] += "\n" + traceback.format_exc()
        finally:
            ctx.close_all()

    t0 = time.monotonic()
    th = threading.Thread(target=body, daemon=True)
    th.start()
    th.join(sc["timeout"])
    if th.is_alive():
        ctx.close_all()
        outcome = {"status": "fail", "detail": f"scenario exceeded its {sc['timeout']} s bound"}
    outcome["seconds"] = round(time.monotonic() - t0, 2)
    return outcome


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--auth-port", type=int, default=0,
                    help="listener with the generated password and ACL files")
    ap.add_argument("--broker-name", default="broker")
    ap.add_argument("--known-failures", default=None)
    ap.add_argument("--vectors", default=os.path.join(HERE, "..", "tests", "vectors"))
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--tools-dir", default=os.environ.get("MQTTWIRE_TOOLS_DIR", ""),
                    help="where mqttwire-pub and mqttwire-sub are (their scenarios skip without)")
    ap.add_argument("-k", dest="filter", action="append", default=[],
                    help="run only scenarios whose name contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="list scenarios and their citations")
    ap.add_argument("--transport", choices=("tcp", "tls", "ws", "wss"), default="tcp",
                    help="what every client connects over (the ports are that transport's)")
    ap.add_argument("--cafile", default=None, help="CA certificate for tls and wss")
    ap.add_argument("--certfile", default=None,
                    help="client certificate (PEM) every client presents over tls and wss")
    ap.add_argument("--keyfile", default=None, help="the key of --certfile")
    ap.add_argument("--ws-split", type=int, default=0, metavar="N",
                    help="raw clients send each MQTT packet in WebSocket frames of N bytes")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.transport in ("tls", "wss") and not args.cafile:
        ap.error(f"--transport {args.transport} needs --cafile")
    if bool(args.certfile) != bool(args.keyfile):
        ap.error("--certfile and --keyfile go together")
    transport.configure(args.transport, args.cafile, split=args.ws_split,
                        certfile=args.certfile, keyfile=args.keyfile)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the suite sends malformed traffic: loopback hosts only")

    scenarios = load_scenarios(args.vectors)
    if args.filter:
        scenarios = [s for s in scenarios if any(f in s["name"] for f in args.filter)]
    if args.list:
        for s in scenarios:
            mark = f"  [expected-to-fail-on: {','.join(sorted(s['expected_to_fail_on']))}]" \
                if s["expected_to_fail_on"] else ""
            print(f"{s['area']:<14} {s['name']:<48} {' '.join(s['cites'])}{mark}")
        print(f"{len(scenarios)} scenarios")
        return 0

    known = load_known(args.known_failures, args.broker_name, args.transport)
    who = f"{args.broker_name} over {args.transport}"
    why = probe_transport(args)
    if why:
        print(f"FAIL   transport-{args.transport}-served  {args.host}:{args.port} does not serve "
              f"MQTT over {args.transport}: {why}")
        print(f"{who}: the broker does not serve this transport; no scenario ran")
        print("0 passed, 1 failed, 0 skipped, 0 expected failures")
        return 1
    run_id = "%06x" % random.randrange(16 ** 6)
    counts = dict(passed=0, failed=0, skipped=0, xfail=0)
    unexpected = []
    results = []
    t_start = time.monotonic()
    for i, sc in enumerate(scenarios):
        o = run_one(sc, args, run_id, i)
        st = o["status"]
        # a mark names a broker, or a broker over one transport ("mosquitto/ws")
        xfail = bool({args.broker_name, f"{args.broker_name}/{args.transport}"} &
                     sc["expected_to_fail_on"])
        if st == "pass":
            counts["passed"] += 1
            label = "PASS" + (" (expected to fail here: now passes)" if xfail else "")
        elif st == "skip":
            counts["skipped"] += 1
            label = "SKIP"
        elif xfail:
            counts["xfail"] += 1
            label = "XFAIL"
            st = "xfail"
        else:
            counts["failed"] += 1
            if sc["name"] in known:
                label = "FAIL (known)"
                st = "known"
            else:
                label = "FAIL"
                unexpected.append(sc["name"])
        line = f"{label:<6} {sc['name']}  [{' '.join(sc['cites'])}]  {o['seconds']:.2f}s"
        if o.get("detail") and st != "pass":
            line += f"\n         {o['detail']}"
            if st == "xfail" and sc["why"]:
                line += f"\n         expected: {sc['why']}"
            if st == "known":
                line += f"\n         known failure: {known[sc['name']]}"
        print(line, flush=True)
        results.append(dict(name=sc["name"], area=sc["area"], cites=sc["cites"], status=st,
                            detail=o.get("detail", ""), seconds=o["seconds"],
                            expected_to_fail_on=sorted(sc["expected_to_fail_on"]),
                            why=sc["why"]))
    elapsed = time.monotonic() - t_start
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(dict(broker=args.broker_name, transport=args.transport,
                           seconds=round(elapsed, 1), counts=counts,
                           results=results), f, indent=1)
    if unexpected:
        print(f"{who}: unexpected failures: {' '.join(unexpected)}")
    print(f"{who}: {len(scenarios)} scenarios in {elapsed:.1f} s")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped, "
          f"{counts['xfail']} expected failures")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
