#!/usr/bin/python3
"""A real browser against a broker's WebSocket listener: starts the broker (mqttwire-broker or
mosquitto) with a `protocol websockets` listener on a free loopback port, runs run.js (headless
Chromium loading index.html, whose page.js drives MQTT.js), and stops the broker by PID.

With --transport wss the listener has a certificate made by conformance/broker/tests/
make-certs.sh, and Chromium trusts that server key alone (run.js --trust-spki).

    /usr/bin/python3 conformance/browser/browser_test.py --kind mqttwire \\
        --broker build/dev/conformance/broker/mqttwire-broker
    /usr/bin/python3 conformance/browser/browser_test.py --kind mosquitto \\
        --broker /usr/sbin/mosquitto

Exit 0 when the page passed every step; 1 otherwise, with the page's steps, its console and the
broker's log. A broker that cannot serve a WebSocket listener is a failure, not a skip.
"""

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients"))

from brokerproc import BrokerDidNotStart, BrokerProcess, Listener  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=("mqttwire", "mosquitto"), required=True)
    ap.add_argument("--broker", required=True, help="the broker executable")
    ap.add_argument("--node", default=shutil.which("node") or "/usr/bin/node")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds for the page")
    ap.add_argument("--transport", choices=("ws", "wss"), default="ws")
    args = ap.parse_args()

    if not os.path.isdir(os.path.join(HERE, "node_modules", "puppeteer-core")):
        print("FAIL: conformance/browser/node_modules missing: run `bash ci/install-deps.sh` "
              "(it runs npm ci there)")
        return 1
    certs = tempfile.mkdtemp(prefix="mqttwire-browser-certs-")
    try:
        return run(args, certs)
    finally:
        shutil.rmtree(certs, ignore_errors=True)


def server_certificate(certs):
    """Makes the test PKI; returns the listener's TLS settings and the SPKI pin of its key."""
    subprocess.run(["bash", os.path.join(HERE, "..", "broker", "tests", "make-certs.sh"), certs],
                   check=True, stdout=subprocess.DEVNULL, timeout=60)
    os.chmod(certs, 0o755)   # mosquitto started as root reads them as the user mosquitto
    for name in os.listdir(certs):
        if os.path.isfile(os.path.join(certs, name)):
            os.chmod(os.path.join(certs, name), 0o644)
    der = subprocess.run(["openssl", "pkey", "-in", os.path.join(certs, "server-rsa.key"),
                          "-pubout", "-outform", "DER"], check=True, capture_output=True,
                         timeout=30).stdout
    pin = base64.b64encode(hashlib.sha256(der).digest()).decode()
    tls = dict(certfile=os.path.join(certs, "server-rsa-chain.pem"),
               keyfile=os.path.join(certs, "server-rsa.key"))
    return tls, pin


def run(args, certs):
    tls, pin = server_certificate(certs) if args.transport == "wss" else (None, "")
    try:
        broker = BrokerProcess(args.kind, args.broker, [Listener(args.transport, tls=tls)])
    except BrokerDidNotStart as e:
        print(f"FAIL: {args.kind} did not serve a {args.transport} listener: {e}")
        return 1
    rc = 1
    try:
        url = f"{args.transport}://127.0.0.1:{broker.port(args.transport)}"
        print(f"{args.kind}: WebSocket listener {url}", flush=True)
        try:
            rc = subprocess.run([args.node, os.path.join(HERE, "run.js"), "--broker", url,
                                 "--chromium", args.chromium,
                                 "--timeout-ms", str(int(args.timeout * 1000)),
                                 *(["--trust-spki", pin] if pin else [])],
                                timeout=args.timeout + 30).returncode
        except subprocess.TimeoutExpired:
            print(f"FAIL: run.js did not finish within {args.timeout + 30:.0f} s")
        if broker.proc.poll() is not None:
            print(f"FAIL: {args.kind} exited during the test (status {broker.proc.returncode})")
            rc = 1
        if rc != 0:
            print(f"--- {args.kind} log (last 3000 characters)")
            print(broker.output()[-3000:])
    finally:
        broker.cleanup()
    print(f"{args.kind}: browser test {'passed' if rc == 0 else 'FAILED'}")
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
