#!/usr/bin/python3
"""End-to-end tests of mqttwire-broker with real clients: paho-mqtt, mosquitto_pub and
mosquitto_sub. Each test starts its own broker on a free 127.0.0.1 port, bounds every wait,
and stops the broker by PID.

    /usr/bin/python3 conformance/broker/tests/integration.py --broker build/dev/conformance/broker/mqttwire-broker

Prints one line per test and ends with `N passed, M failed`.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_process import BrokerProcess, free_port, run_tests  # noqa: E402

BROKER = None
TIMEOUT = 5.0


class Broker(BrokerProcess):
    # `verbose`: -v; `extra_args`: appended to the command line ({port} replaced).
    def __init__(self, config_lines=None, port=None, verbose=True, extra_args=()):
        port = port or free_port()
        workdir = tempfile.mkdtemp(prefix="mqttwire-it-")
        args = [BROKER] + (["-v"] if verbose else [])
        if config_lines is not None:
            path = os.path.join(workdir, "broker.conf")
            with open(path, "w") as f:
                f.write("\n".join(config_lines).replace("{port}", str(port)) + "\n")
            args += ["-c", path]
        else:
            args += ["-p", str(port)]
        args += [a.replace("{port}", str(port)) for a in extra_args]
        super().__init__(args, port, workdir, TIMEOUT)


def client(port, cid="", protocol=mqtt.MQTTv311, clean=True, **kw):
    if protocol == mqtt.MQTTv5:
        c = mqtt.Client(client_id=cid, protocol=protocol, **kw)
    else:
        c = mqtt.Client(client_id=cid, clean_session=clean, protocol=protocol, **kw)
    c.received = []
    c.connected = threading.Event()
    c.subscribed = threading.Event()
    c.rc = None

    def on_connect(cl, userdata, flags, rc, properties=None):
        cl.rc = rc
        cl.session_present = flags.get("session present", 0)
        cl.connected.set()

    def on_message(cl, userdata, msg):
        cl.received.append((msg.topic, msg.payload, msg.qos, msg.retain))

    def on_subscribe(cl, userdata, mid, granted, properties=None):
        cl.granted = granted
        cl.subscribed.set()

    c.on_connect = on_connect
    c.on_message = on_message
    c.on_subscribe = on_subscribe
    return c


def start(c, port, **kw):
    if c._protocol == mqtt.MQTTv5:
        c.connect("127.0.0.1", port, keepalive=30, clean_start=kw.get("clean_start", True),
                  properties=kw.get("properties"))
    else:
        c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    assert c.connected.wait(TIMEOUT), "no CONNACK"
    return c


def subscribe(c, topic, qos=0):
    c.subscribed.clear()
    c.subscribe(topic, qos)
    assert c.subscribed.wait(TIMEOUT), "no SUBACK"


def wait_for(pred, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def stop(*clients):
    for c in clients:
        try:
            c.disconnect()
        except Exception:
            pass
        c.loop_stop()


def run(cmd, timeout=TIMEOUT):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------------------------


def test_readme_home_automation_script():
    """The DESIGN section 1 script: subscribe pc/cmd and publish pc/stat in on_connect."""
    with Broker() as b:
        got = []
        ready = threading.Event()

        def on_connect(c, u, f, rc):
            c.subscribe("pc/cmd")
            c.publish("pc/stat", "ON", retain=True)

        def on_subscribe(c, u, mid, granted):
            ready.set()

        def on_message(c, u, m):
            got.append((m.topic, m.payload))

        c = mqtt.Client()
        c.on_connect, c.on_message, c.on_subscribe = on_connect, on_message, on_subscribe
        c.connect("127.0.0.1", b.port, 60)
        c.loop_start()
        assert ready.wait(TIMEOUT)
        r = run(["mosquitto_pub", "-p", str(b.port), "-t", "pc/cmd", "-m", "OFF"])
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: got == [("pc/cmd", b"OFF")]), got
        r = run(["mosquitto_sub", "-p", str(b.port), "-t", "pc/stat", "-C", "1", "-W", "3"])
        assert r.stdout.strip() == "ON", r  # the retained state
        stop(c)


def test_mosquitto_clients_all_versions_talk_to_each_other():
    """MQTT-3.3.2-3 / MQTT5-3.3.2-3 across 3.1, 3.1.1 and 5.0 on one listener."""
    with Broker() as b:
        subs = {}
        for v in ("mqttv31", "mqttv311", "mqttv5"):
            subs[v] = subprocess.Popen(
                ["mosquitto_sub", "-p", str(b.port), "-V", v, "-t", "home/#", "-v", "-C", "3",
                 "-W", "5"], stdout=subprocess.PIPE, text=True)
        assert wait_for(lambda: b.output().count("connected (") >= 3)
        time.sleep(0.2)
        for i, v in enumerate(("mqttv31", "mqttv311", "mqttv5")):
            r = run(["mosquitto_pub", "-p", str(b.port), "-V", v, "-q", str(i), "-t",
                     f"home/{v}", "-m", f"from-{v}"])
            assert r.returncode == 0, r.stderr
        for v, p in subs.items():
            out, _ = p.communicate(timeout=TIMEOUT + 2)
            lines = sorted(out.strip().splitlines())
            assert lines == ["home/mqttv31 from-mqttv31", "home/mqttv311 from-mqttv311",
                             "home/mqttv5 from-mqttv5"], (v, lines)


def test_retained_set_replace_delete():
    """MQTT-3.3.1-5, MQTT-3.3.1-10, MQTT-3.3.1-11 with mosquitto_pub -r."""
    with Broker() as b:
        port = str(b.port)
        run(["mosquitto_pub", "-p", port, "-t", "salon/luz/stat", "-m", "ON", "-r"])
        run(["mosquitto_pub", "-p", port, "-t", "salon/luz/stat", "-m", "OFF", "-r"])
        r = run(["mosquitto_sub", "-p", port, "-t", "salon/+/stat", "-C", "1", "-W", "3", "-v"])
        assert r.stdout.strip() == "salon/luz/stat OFF", r
        run(["mosquitto_pub", "-p", port, "-t", "salon/luz/stat", "-r", "-n"])
        r = run(["mosquitto_sub", "-p", port, "-t", "salon/#", "-C", "1", "-W", "1"])
        assert r.stdout.strip() == "", r


def test_will_on_abnormal_loss_not_on_disconnect():
    """MQTT-3.1.2-8, MQTT-3.14.4-3."""
    with Broker() as b:
        w = start(client(b.port, "watcher"), b.port)
        subscribe(w, "status/#", 1)
        polite = client(b.port, "polite")
        polite.will_set("status/polite", "offline", qos=1)
        start(polite, b.port)
        stop(polite)
        crash = client(b.port, "crash")
        crash.will_set("status/crash", "offline", qos=1, retain=True)
        start(crash, b.port)
        crash.loop_stop()
        crash.socket().close()  # no DISCONNECT
        assert wait_for(lambda: len(w.received) >= 1)
        time.sleep(0.3)
        assert [m[0] for m in w.received] == ["status/crash"], w.received
        r = run(["mosquitto_sub", "-p", str(b.port), "-t", "status/crash", "-C", "1", "-W", "3"])
        assert r.stdout.strip() == "offline"  # Will Retain=1: MQTT-3.1.2-17
        stop(w)


def test_qos2_end_to_end_and_persistent_session():
    """MQTT-4.3.3-2, MQTT-3.1.2-4, MQTT-3.1.2-5, MQTT-4.4.0-1 with paho."""
    with Broker() as b:
        sub = start(client(b.port, "keeper", clean=False), b.port)
        subscribe(sub, "jobs/#", 2)
        stop(sub)
        pub = start(client(b.port, "pub"), b.port)
        infos = [pub.publish("jobs/%d" % i, "job%d" % i, qos=2) for i in range(20)]
        for i in infos:
            i.wait_for_publish(TIMEOUT)
        stop(pub)
        sub = start(client(b.port, "keeper", clean=False), b.port)
        assert sub.session_present == 1
        assert wait_for(lambda: len(sub.received) == 20), len(sub.received)
        assert [m[1] for m in sub.received] == [b"job%d" % i for i in range(20)]  # ordered
        assert all(m[2] == 2 for m in sub.received)
        stop(sub)


def test_v5_features_with_paho():
    """MQTT5-3.3.2-15..20 (forwarded properties), MQTT5-3.3.4-3 (subscription id),
    MQTT5-3.8.3-3 (No Local), MQTT5-3.2.2-16 (assigned id)."""
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.subscribeoptions import SubscribeOptions
    with Broker() as b:
        got = []
        c = mqtt.Client(client_id="", protocol=mqtt.MQTTv5)
        assigned = {}
        ready = threading.Event()

        def on_connect(cl, u, f, rc, props=None):
            assigned["id"] = getattr(props, "AssignedClientIdentifier", None)
            ready.set()

        def on_message(cl, u, m):
            got.append(m)

        c.on_connect, c.on_message = on_connect, on_message
        c.connect("127.0.0.1", b.port, clean_start=True)
        c.loop_start()
        assert ready.wait(TIMEOUT)
        assert assigned["id"], "no Assigned Client Identifier"
        sp = Properties(PacketTypes.SUBSCRIBE)
        sp.SubscriptionIdentifier = 42
        c.subscribe("req/#", options=SubscribeOptions(qos=1, noLocal=True), properties=sp)
        time.sleep(0.3)
        c.publish("req/own", "mine", qos=1)  # No Local: not returned
        other = mqtt.Client(client_id="other", protocol=mqtt.MQTTv5)
        other.connect("127.0.0.1", b.port)
        other.loop_start()
        pp = Properties(PacketTypes.PUBLISH)
        pp.ResponseTopic = "resp/1"
        pp.CorrelationData = b"\x01\x02"
        pp.ContentType = "text/plain"
        pp.PayloadFormatIndicator = 1
        pp.UserProperty = [("b", "2"), ("a", "1")]
        other.publish("req/x", "hello", qos=1, properties=pp).wait_for_publish(TIMEOUT)
        assert wait_for(lambda: len(got) >= 1)
        time.sleep(0.3)
        assert len(got) == 1, [m.topic for m in got]
        m = got[0]
        assert m.topic == "req/x" and m.payload == b"hello"
        p = m.properties
        assert p.ResponseTopic == "resp/1" and p.CorrelationData == b"\x01\x02"
        assert p.ContentType == "text/plain" and p.PayloadFormatIndicator == 1
        assert p.UserProperty == [("b", "2"), ("a", "1")], p.UserProperty
        assert p.SubscriptionIdentifier == [42], p.SubscriptionIdentifier
        stop(c, other)


def test_passwords_and_acl_made_with_mosquitto_passwd():
    """password_file from mosquitto_passwd, acl_file in mosquitto's format; MQTT-3.3.5-2
    (unauthorised PUBLISH acknowledged, not delivered)."""
    d = tempfile.mkdtemp(prefix="mqttwire-auth-")
    pw = os.path.join(d, "passwd")
    r = run(["mosquitto_passwd", "-c", "-b", pw, "alice", "secret"])
    assert r.returncode == 0, r.stderr
    run(["mosquitto_passwd", "-b", pw, "bob", "hunter2"])
    acl = os.path.join(d, "acl")
    with open(acl, "w") as f:
        f.write("user alice\ntopic readwrite home/#\n\nuser bob\ntopic read home/#\n"
                "pattern write clients/%u/#\n")
    with Broker(["listener {port} 127.0.0.1", "allow_anonymous false",
                 "password_file " + pw, "acl_file " + acl]) as b:
        port = str(b.port)
        r = run(["mosquitto_pub", "-p", port, "-t", "home/x", "-m", "1"])
        assert r.returncode != 0, "anonymous accepted"
        r = run(["mosquitto_pub", "-p", port, "-u", "alice", "-P", "wrong", "-t", "home/x",
                 "-m", "1"])
        assert r.returncode != 0, "bad password accepted"
        bob = subprocess.Popen(["mosquitto_sub", "-p", port, "-u", "bob", "-P", "hunter2",
                                "-t", "home/#", "-t", "clients/#", "-v", "-W", "3"],
                               stdout=subprocess.PIPE, text=True)
        assert wait_for(lambda: "client" in b.output() and "connected" in b.output())
        time.sleep(0.3)
        ok = run(["mosquitto_pub", "-p", port, "-u", "alice", "-P", "secret", "-q", "1",
                  "-t", "home/luz", "-m", "ON"])
        assert ok.returncode == 0, ok.stderr
        denied = run(["mosquitto_pub", "-p", port, "-u", "bob", "-P", "hunter2", "-q", "1",
                      "-t", "home/luz", "-m", "HACK"])
        assert denied.returncode == 0, denied.stderr  # acknowledged, then dropped
        own = run(["mosquitto_pub", "-p", port, "-u", "bob", "-P", "hunter2", "-t",
                   "clients/bob/state", "-m", "up"])
        assert own.returncode == 0
        out, _ = bob.communicate(timeout=TIMEOUT)
        lines = out.strip().splitlines()
        assert "home/luz ON" in lines and "home/luz HACK" not in lines, lines
        assert "clients/bob/state up" not in lines  # bob may write there but not read
        assert "not authorised" in b.output()


def test_robustness_garbage_and_slow_clients_do_not_disturb_others():
    """Protocol errors close only the offender (MQTT-4.8.0-1); oversized lengths are refused
    from the header; a byte-at-a-time CONNECT works; nothing is lost for other clients."""
    with Broker(["listener {port} 127.0.0.1", "allow_anonymous true",
                 "max_packet_size 65536"]) as b:
        sub = start(client(b.port, "steady-sub"), b.port)
        subscribe(sub, "load/#", 1)
        pub = start(client(b.port, "steady-pub"), b.port)
        stop_flag = threading.Event()
        errors = []

        def attacker():
            payloads = [
                b"\xff\xff\xff\xff\xff",                         # reserved type, 5-byte length
                b"\x10\xff\xff\xff\x7f",                         # 256 MiB CONNECT
                b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00",     # truncated, then silence
                os.urandom(64),
                b"\x30\x03\x00\x01a",                           # PUBLISH before CONNECT
            ]
            n = 0
            while not stop_flag.is_set() and n < 200:
                p = payloads[n % len(payloads)]
                try:
                    s = socket.create_connection(("127.0.0.1", b.port), timeout=1)
                    s.sendall(p)
                    s.settimeout(0.05)
                    try:
                        s.recv(16)
                    except OSError:
                        pass
                    s.close()
                except OSError as e:
                    errors.append(e)
                n += 1

        def slow_connect():
            s = socket.create_connection(("127.0.0.1", b.port), timeout=2)
            pkt = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04slow"
            for byte in pkt:
                s.send(bytes([byte]))
                time.sleep(0.01)
            s.settimeout(2)
            ack = s.recv(4)
            s.close()
            if ack != b"\x20\x02\x00\x00":
                errors.append("slow CONNECT got %r" % ack)

        threads = [threading.Thread(target=attacker) for _ in range(2)]
        threads.append(threading.Thread(target=slow_connect))
        for t in threads:
            t.start()
        for i in range(300):
            pub.publish("load/%d" % (i % 7), "m%d" % i, qos=1)
        assert wait_for(lambda: len(sub.received) >= 300, 10), len(sub.received)
        stop_flag.set()
        for t in threads:
            t.join(timeout=10)
        payloads = [m[1] for m in sub.received]
        assert payloads == [b"m%d" % i for i in range(300)], "lost or reordered messages"
        assert not [e for e in errors if isinstance(e, str)], errors
        assert b.proc.poll() is None, "broker died"
        stop(sub, pub)


def test_config_errors_name_the_line():
    d = tempfile.mkdtemp(prefix="mqttwire-conf-")
    path = os.path.join(d, "bad.conf")
    with open(path, "w") as f:
        f.write("# comment\nlistener 1883\nbogus_directive 1\n")
    r = run([BROKER, "-c", path])
    assert r.returncode != 0
    assert ":3:" in r.stderr and "bogus_directive" in r.stderr, r.stderr


def test_sigterm_stops_cleanly():
    b = Broker()
    c = start(client(b.port, "x", protocol=mqtt.MQTTv5), b.port)
    disconnected = threading.Event()
    c.on_disconnect = lambda *a: disconnected.set()
    rc = b.stop()
    assert rc == 0, rc
    assert disconnected.wait(TIMEOUT)
    c.loop_stop()


def main(namespace=None):
    global BROKER
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("-k", default="")
    args = ap.parse_args()
    BROKER = os.path.abspath(args.broker)
    return run_tests(namespace or globals(), args.k)


if __name__ == "__main__":
    sys.exit(main())
