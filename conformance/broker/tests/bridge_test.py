#!/usr/bin/python3
"""Bridges between mqttwire-broker and real mosquitto instances, both ways: mosquitto bridging
into mqttwire-broker (the bridge flag, levels 0x83/0x84, and 5.0), mqttwire-broker bridging out
to mosquitto (prefixes, both directions, reconnection, notifications). Messages are counted at
both ends so a loop between the brokers (a message coming back) fails the test.

    /usr/bin/python3 conformance/broker/tests/bridge_test.py \
        --broker build/dev/conformance/broker/mqttwire-broker [--mosquitto /usr/sbin/mosquitto]

Only the standard library, mosquitto, mosquitto_pub and mosquitto_sub. Every process runs on a
free 127.0.0.1 port, is stopped by its PID, and every wait is bounded. Prints one line per test
and ends with `N passed, M failed`.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_process import BrokerProcess, free_port, run_tests  # noqa: E402
from broker_process import wait_for as wait_until  # noqa: E402
from raw_mqtt import Wire, packet, utf8  # noqa: E402

BROKER = None
MOSQUITTO = None
TIMEOUT = 10.0


def wait_for(pred, timeout=TIMEOUT):
    return wait_until(pred, timeout)


class Process(BrokerProcess):
    """A broker (mqttwire-broker or mosquitto) with a configuration file, on `port`; its files
    are removed when it is done with."""

    def __init__(self, program, config, port=None):
        port = port or free_port()
        workdir = tempfile.mkdtemp(prefix="mqttwire-bridge-")
        path = os.path.join(workdir, "broker.conf")
        with open(path, "w") as f:
            f.write(config.replace("{port}", str(port)))
        super().__init__([program, "-c", path] + (["-v"] if program == BROKER else []), port,
                         workdir, TIMEOUT)

    def __exit__(self, *exc):
        self.stop()
        out = self.output()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        # A sanitizer build reports on stderr and may still exit normally.
        if exc[0] is None:
            assert "Sanitizer" not in out and "runtime error:" not in out, out


def mqttwire(config):
    return Process(BROKER, "listener {port} 127.0.0.1\nallow_anonymous true\n" + config)


def mosquitto(config="", port=None):
    return Process(MOSQUITTO, "listener {port} 127.0.0.1\nallow_anonymous true\n" + config, port)


class Subscriber:
    """mosquitto_sub printing `topic payload` lines (retained ones flagged) until stopped."""

    def __init__(self, port, *filters, version="mqttv311"):
        args = ["mosquitto_sub", "-p", str(port), "-V", version, "-v", "-F", "%r %t %p", "-q",
                "1", "-i", "probe-%d" % free_port()]
        for f in filters:
            args += ["-t", f]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = None
        time.sleep(0.4)  # SUBACK; mosquitto_sub prints nothing before the first message

    def finish(self, settle=1.0):
        """Waits `settle` seconds for late (looping) copies, stops, returns the lines."""
        time.sleep(settle)
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=TIMEOUT)
        self.lines = out.splitlines()
        return self.lines


def first_line(port, topic, timeout=5):
    r = subprocess.run(["mosquitto_sub", "-p", str(port), "-t", topic, "-C", "1", "-W",
                        str(timeout), "-F", "%r %p"], capture_output=True, text=True,
                       timeout=timeout + 5)
    return r.stdout.strip()


def publish(port, topic, payload, qos=1, retain=False, version="mqttv311"):
    args = ["mosquitto_pub", "-p", str(port), "-V", version, "-q", str(qos), "-t", topic, "-m",
            payload]
    if retain:
        args.append("-r")
    r = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr


def exchange(a, b, a_topic, b_topic, count=5, check=True):
    """Publishes `count` messages on each side; each side's subscriber must see its own and the
    other side's messages exactly once (a copy coming back would make it twice). Returns both
    sides' lines and what each should be."""
    sa = Subscriber(a.port, a_topic + "/#")
    sb = Subscriber(b.port, b_topic + "/#")
    for i in range(count):
        publish(a.port, "%s/a%d" % (a_topic, i), "from-a-%d" % i)
        publish(b.port, "%s/b%d" % (b_topic, i), "from-b-%d" % i)
    la, lb = sa.finish(), sb.finish(0)
    want_a = sorted(["0 %s/a%d from-a-%d" % (a_topic, i, i) for i in range(count)] +
                    ["0 %s/b%d from-b-%d" % (a_topic, i, i) for i in range(count)])
    want_b = sorted(["0 %s/a%d from-a-%d" % (b_topic, i, i) for i in range(count)] +
                    ["0 %s/b%d from-b-%d" % (b_topic, i, i) for i in range(count)])
    if check:
        assert sorted(la) == want_a, ("side a", la)
        assert sorted(lb) == want_b, ("side b", lb)
    return la, lb, want_a, want_b


# ---------------------------------------------------------------------------------------------
# mosquitto bridging into mqttwire-broker


def mosquitto_bridge_to(port, extra=""):
    return ("connection into-mqttwire\naddress 127.0.0.1:%d\ntopic # both 1\n"
            "restart_timeout 1 2\n%s" % (port, extra))


def test_incoming_mosquitto_default_settings_v311():
    """try_private true, mqttv311 (mosquitto's defaults): CONNECT level 0x84, accepted as a
    bridge; messages both ways, each exactly once (No Local for the bridge: no loop)."""
    with mqttwire("") as mw, mosquitto(mosquitto_bridge_to(mw.port)) as mq:
        assert wait_for(lambda: ".into-mqttwire: bridge connected (3.1.1)" in mw.output()), \
            mw.output()
        exchange(mq, mw, "home", "home")


def test_incoming_mosquitto_v5():
    v5 = "bridge_protocol_version mqttv50\n"
    with mqttwire("") as mw, mosquitto(mosquitto_bridge_to(mw.port, v5)) as mq:
        assert wait_for(lambda: ".into-mqttwire: connected (5.0)" in mw.output()), mw.output()
        exchange(mq, mw, "home", "home")


def test_incoming_bridge_keeps_retain_as_published():
    """A retained message published at mqttwire-broker reaches mosquitto's bridge with RETAIN
    kept (Retain As Published for a bridge), so mosquitto stores it for later subscribers."""
    with mqttwire("") as mw, mosquitto(mosquitto_bridge_to(mw.port)) as mq:
        assert wait_for(lambda: "bridge connected" in mw.output()), mw.output()
        live = Subscriber(mq.port, "state/#")
        publish(mw.port, "state/lamp", "ON", retain=True)
        # mosquitto's subscriber sees the live message with RETAIN 0 (MQTT-3.3.1-9), and no
        # second copy; its bridge kept RETAIN, so mosquitto stored it:
        assert live.finish() == ["0 state/lamp ON"], live.lines
        assert first_line(mq.port, "state/lamp") == "1 ON"


# ---------------------------------------------------------------------------------------------
# mqttwire-broker bridging out to mosquitto


def outgoing(remote_port, extra=""):
    return ("connection cloud\naddress 127.0.0.1:%d\nremote_clientid edge1\n"
            "topic sensors/# both 1 home/ site1/\nrestart_timeout 1 2\n%s" % (remote_port, extra))


def state(port):
    return first_line(port, "$SYS/broker/connection/edge1/state")


def test_outgoing_both_with_prefixes_v311():
    with mosquitto() as mq, mqttwire(outgoing(mq.port)) as mw:
        assert wait_for(lambda: "bridge cloud: connected" in mw.output()), mw.output()
        # try_private: mosquitto sees the bridge flag (level 0x84, logged as a bridge).
        assert wait_for(lambda: "New bridge connected" in mq.output()), mq.output()
        assert "as edge1 (p2," in mq.output(), mq.output()
        exchange(mw, mq, "home/sensors", "site1/sensors")


def test_outgoing_v5_and_v31():
    for version, seen in (("mqttv50", "New client connected from"),
                          ("mqttv31", "New bridge connected from")):
        with mosquitto() as mq, mqttwire(outgoing(
                mq.port, "bridge_protocol_version %s\n" % version)) as mw:
            assert wait_for(lambda: "bridge cloud: connected" in mw.output()), mw.output()
            exchange(mw, mq, "home/sensors", "site1/sensors", count=3)
            level = "(p5," if version == "mqttv50" else "(p1,"
            assert seen in mq.output() and "as edge1 " + level in mq.output(), mq.output()


def test_outgoing_notifications_and_reconnect():
    """State 1 on both brokers while connected; 0 locally when the remote goes away; the bridge
    reconnects when it is back and messages flow again; kill -9 of mqttwire-broker leaves 0 at
    the remote through the bridge's will."""
    mq = mosquitto()
    port = mq.port
    try:
        with mqttwire(outgoing(port)) as mw:
            assert wait_for(lambda: state(mw.port) == "1 1", 8), mw.output()
            assert state(port) == "1 1"
            mq.stop()
            assert wait_for(lambda: state(mw.port) == "1 0", 8), mw.output()
            mq = mosquitto(port=port)
            assert wait_for(lambda: state(mw.port) == "1 1", 10), mw.output()
            exchange(mw, mq, "home/sensors", "site1/sensors", count=2)
            mw.stop(signal.SIGKILL)
            assert wait_for(lambda: state(port) == "1 0", 8), mq.output()
    finally:
        mq.stop()


def test_control_without_the_bridge_flag_messages_come_back():
    """The control for the counts above: a mosquitto bridge with try_private false looks like a
    plain client, so mqttwire-broker sends its messages back and mosquitto's subscriber sees
    them twice. The exchange check must catch exactly that."""
    with mqttwire("") as mw, mosquitto(mosquitto_bridge_to(mw.port, "try_private false\n")) as mq:
        assert wait_for(lambda: ".into-mqttwire: connected (3.1.1)" in mw.output()), \
            mw.output()
        la, lb, want_a, _ = exchange(mq, mw, "home", "home", count=2, check=False)
        # Everything arrived, and mosquitto's side has more: its own messages came back.
        assert set(la) == set(want_a), la
        assert len(la) > len(want_a), la


def test_outgoing_round_robin_addresses():
    """The first address refuses connections: the bridge moves on to the second."""
    dead = free_port()
    with mosquitto() as mq, mqttwire(
            "connection cloud\naddress 127.0.0.1:%d 127.0.0.1:%d\nremote_clientid edge1\n"
            "topic a/# out 1\nrestart_timeout 1 1\n" % (dead, mq.port)) as mw:
        assert wait_for(lambda: "bridge cloud: connected to 127.0.0.1:%d" % mq.port
                        in mw.output(), 8), mw.output()
        s = Subscriber(mq.port, "a/#")
        publish(mw.port, "a/b", "x")
        assert s.finish() == ["0 a/b x"], s.lines


def test_try_private_refused_falls_back_to_a_plain_connect():
    """A broker that does not know the bridge flag answers CONNACK 1 (unacceptable protocol
    level, MQTT-3.1.2-2) to level 0x84: the bridge connects again at once with level 4."""
    import socket
    levels = []
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(TIMEOUT)
    port = srv.getsockname()[1]
    kept = []
    try:
        with mqttwire("connection old\naddress 127.0.0.1:%d\ntopic a/# out\nremote_clientid e\n"
                      "restart_timeout 30\nnotifications false\n" % port) as mw:
            for answer in (b"\x20\x02\x00\x01", b"\x20\x02\x00\x00"):
                conn, _ = srv.accept()
                conn.settimeout(TIMEOUT)
                connect = conn.recv(4096)  # one small CONNECT: 10 len 00 04 MQTT level ...
                levels.append(connect[8])
                conn.sendall(answer)
                kept.append(conn)
            assert levels == [0x84, 0x04], levels
            assert wait_for(lambda: "bridge old: connected" in mw.output()), mw.output()
            assert "refused the bridge flag" in mw.output(), mw.output()
    finally:
        for c in kept:
            c.close()
        srv.close()


def make_certs():
    out = tempfile.mkdtemp(prefix="mqttwire-bridge-pki-")
    r = subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "make-certs.sh"), out],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # mosquitto started as root reads them after dropping to its own user.
    for d, _, files in os.walk(out):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return out


def test_outgoing_tls_to_mosquitto():
    """bridge_cafile / bridge_certfile / bridge_keyfile to a mosquitto TLS listener that requires
    a client certificate; with an unrelated CA the bridge does not connect (and says why)."""
    pki = make_certs()
    try:
        tls_port = free_port()
        with mosquitto("listener %d 127.0.0.1\ncertfile %s/server-ec-chain.pem\n"
                       "keyfile %s/server-ec.key\ncafile %s/ca.pem\nrequire_certificate true\n"
                       % (tls_port, pki, pki, pki)) as mq:
            tls = ("connection cloud\naddress 127.0.0.1:%d\nremote_clientid edge1\n"
                   "topic sensors/# both 1 home/ site1/\nrestart_timeout 1 2\n"
                   "bridge_certfile %s/client.pem\nbridge_keyfile %s/client.key\n"
                   % (tls_port, pki, pki))
            with mqttwire(tls + "bridge_cafile %s/ca.pem\n" % pki) as mw:
                assert wait_for(lambda: "bridge cloud: connected" in mw.output()), mw.output()
                exchange(mw, mq, "home/sensors", "site1/sensors", count=3)
            with mqttwire(tls + "bridge_cafile %s/rogue-ca.pem\n" % pki) as mw:
                assert wait_for(lambda: "TLS: " in mw.output()), mw.output()
                assert "connected to" not in mw.output(), mw.output()
    finally:
        shutil.rmtree(pki, ignore_errors=True)


def test_mqttwire_to_mqttwire_both_ways_no_loop():
    """Two mqttwire-brokers, one bridging to the other with `#` both ways and the bridge flag:
    every message once on each side."""
    with mqttwire("") as remote, mqttwire("connection peer\naddress 127.0.0.1:%d\ntopic # both 1\n"
                      "restart_timeout 1 1\nnotifications false\n" % remote.port) as local:
        assert wait_for(lambda: "bridge connected (3.1.1)" in remote.output()), \
            remote.output()
        exchange(local, remote, "x", "x")


# ---------------------------------------------------------------------------------------------
# Acknowledgement order: a fake remote broker on a raw socket


def test_outgoing_acknowledges_the_remote_only_once_the_local_broker_has_the_message():
    """A remote QoS 1 PUBLISH is acknowledged to the remote broker only after the local broker
    has acknowledged the crossed message. The local broker holds the third message (its only
    subscriber has one message in flight and one queued, queue_overflow block): no PUBACK for it
    reaches the remote broker until the subscriber makes room. A message that crosses at QoS 0
    is acknowledged at once, out of order."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    remote_port = listener.getsockname()[1]
    config = ("max_inflight_messages 1\nmax_queued_messages 1\n"
              "connection fake\naddress 127.0.0.1:%d\nremote_clientid edge1\n"
              "topic t/# in 1\ntopic z/# in 0\nnotifications false\nrestart_timeout 1 1\n"
              % remote_port)
    with mqttwire(config) as mw:
        conn, _ = listener.accept()
        listener.close()
        remote = Wire(conn)
        remote.expect(1)  # CONNECT
        remote.send(bytes.fromhex("20 02 00 00"))  # CONNACK
        _, sub = remote.expect(8)  # SUBSCRIBE t/# and z/#
        remote.send(packet(0x90, sub[:2] + b"\x01\x00"))  # SUBACK
        # A subscriber that takes no more than one message in flight and one queued.
        slow = Wire(socket.create_connection(("127.0.0.1", mw.port), timeout=TIMEOUT))
        slow.send(packet(0x10, utf8("MQTT") + bytes([4, 2, 0, 60]) + utf8("slow")))
        slow.expect(2)  # CONNACK
        slow.send(packet(0x82, b"\x00\x01" + utf8("t/#") + b"\x01"))
        slow.expect(9)  # SUBACK

        for i in (1, 2, 3):  # QoS 1 PUBLISH t/x = m<i>, packet identifier i
            remote.send(packet(0x32, utf8("t/x") + i.to_bytes(2, "big") + b"m%d" % i))
        first, body = slow.expect(3)
        assert body.endswith(b"m1"), body
        assert remote.expect(4) == (0x40, b"\x00\x01")  # in flight at the subscriber
        assert remote.expect(4) == (0x40, b"\x00\x02")  # queued for it
        # The third is held by the local broker: not acknowledged to the remote one.
        assert remote.next(1.5) is None, "PUBACK before the local broker had the message"
        remote.send(packet(0x32, utf8("z/x") + b"\x00\x04" + b"q0"))
        assert remote.expect(4) == (0x40, b"\x00\x04")  # crosses at QoS 0: at once
        assert remote.next(0.5) is None

        # The subscriber acknowledges m1: m2 moves into flight, m3 into the queue, and only
        # then does the remote broker get its PUBACK for 3.
        slow.send(packet(0x40, body[5:7]))
        first, body = slow.expect(3)
        assert body.endswith(b"m2"), body
        assert remote.expect(4) == (0x40, b"\x00\x03")
        slow.send(packet(0x40, body[5:7]))
        first, body = slow.expect(3)
        assert body.endswith(b"m3"), body
        conn.close()
        slow.sock.close()


def main():
    global BROKER, MOSQUITTO
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    BROKER = os.path.abspath(args.broker)
    MOSQUITTO = args.mosquitto
    if not os.path.exists(MOSQUITTO) or shutil.which("mosquitto_sub") is None:
        print("mosquitto, mosquitto_pub and mosquitto_sub are needed (Debian packages mosquitto "
              "and mosquitto-clients)")
        return 1
    return run_tests(globals(), args.k)


if __name__ == "__main__":
    sys.exit(main())
