#!/usr/bin/python3
"""mqttwire-broker as a drop-in for mosquitto, end to end: Debian's default configuration file
and the Home Assistant add-on's generated one start the broker; $SYS against a real mosquitto
for the same traffic; connection messages, log destinations and $SYS/broker/log; pid_file and
user; SIGHUP reloading the password file and ACL while connections keep their sessions.

    /usr/bin/python3 conformance/broker/tests/dropin.py --broker build/dev/conformance/broker/mqttwire-broker

Every broker and mosquitto started here listens on a free 127.0.0.1 port and is stopped by PID.
Prints one line per test and ends with `N passed, M failed`.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration  # noqa: E402
from integration import TIMEOUT, Broker, client, free_port, run, start, stop, subscribe, wait_for  # noqa: E402

DEBIAN_CONF = "/etc/mosquitto/mosquitto.conf"


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def passwd(path, *users):
    """A password file made by mosquitto_passwd (user name = password)."""
    if os.path.exists(path):
        os.unlink(path)
    for i, u in enumerate(users):
        r = run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [path, u, u])
        assert r.returncode == 0, r.stderr


def collect(port, topic, seconds, cid):
    """Every (topic, payload, retain) received on `topic` for `seconds`."""
    c = start(client(port, cid), port)
    subscribe(c, topic)
    time.sleep(seconds)
    stop(c)
    return list(c.received)


# ---------------------------------------------------------------------------------------------
# Configuration files users already have


def test_debian_default_conf_starts_unchanged():
    # Debian's own file, as the package installed it, with the port from the command line (the
    # file defines no listener: mosquitto's local-only mode on 1883, which may be taken here).
    assert os.path.exists(DEBIAN_CONF), DEBIAN_CONF + " missing: run ci/install-deps.sh (mosquitto)"
    log_path = re.search(r"^log_dest file (.+)$", read(DEBIAN_CONF), re.M).group(1).strip()
    existed = os.path.exists(log_path)
    # persistence true: the store goes into Debian's persistence_location under our own name.
    location = re.search(r"^persistence_location (.+)$", read(DEBIAN_CONF), re.M).group(1).strip()
    store_path = os.path.join(location, "mqttwire.store")
    store_existed = os.path.exists(store_path)
    cid = "debian-%d" % os.getpid()
    try:
        with Broker(verbose=False, extra_args=["-c", DEBIAN_CONF]) as b:
            sub = start(client(b.port, cid + "-sub"), b.port)
            subscribe(sub, "deb/#", 1)
            pub = start(client(b.port, cid), b.port)
            pub.publish("deb/state", b"on", qos=1, retain=True).wait_for_publish(TIMEOUT)
            assert wait_for(lambda: any(m[0] == "deb/state" for m in sub.received))
            stop(pub, sub)
            assert b.proc.poll() is None, b.output()
            # log_dest file: the connection messages went to Debian's log file (or, when it
            # cannot be opened, to stderr after an error line saying so).
            line = "as %s (p2, c1, k30)." % cid
            assert wait_for(lambda: line in read(log_path) or line in b.output()), b.output()
            if line not in read(log_path):
                assert "cannot open log file '%s'" % log_path in b.output(), b.output()
            text = read(log_path) + b.output()
            assert "store %s:" % store_path in text, text
    finally:
        if not existed and os.path.exists(log_path):
            os.unlink(log_path)
        if not store_existed and os.path.exists(store_path):
            os.unlink(store_path)


HA_HEAD = """user root
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
log_timestamp_format %Y-%m-%d %H:%M:%S
persistence true
persistence_location {dir}/
max_queued_messages 8192
"""
HA_PLUGIN = """auth_plugin /usr/share/mosquitto/go-auth.so
auth_opt_backends files,http
auth_opt_files_password_path /etc/mosquitto/pw
"""
HA_LISTENERS = """listener {port}
protocol mqtt
"""
HA_WEBSOCKETS = """listener {ws_port}
protocol websockets
"""


def serves_websockets():
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-")
    write(os.path.join(d, "ws.conf"), "listener %d\nprotocol websockets\n" % free_port())
    p = subprocess.Popen([integration.BROKER, "-c", os.path.join(d, "ws.conf")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=1.0)
        return "not served by this build" not in out
    except subprocess.TimeoutExpired:
        p.terminate()
        p.wait()
        return True


def test_home_assistant_addon_conf():
    # The add-on's generated file (its template rendered without TLS), ports moved to free ones.
    d = tempfile.mkdtemp(prefix="mqttwire-ha-")
    port, ws_port = free_port(), free_port()
    fill = lambda t: t.replace("{dir}", d).replace("{port}", str(port)).replace("{ws_port}", str(ws_port))
    # As generated: the authentication plugin stops start-up, naming it and its line.
    path = os.path.join(d, "mosquitto.conf")
    write(path, fill(HA_HEAD + HA_PLUGIN + HA_LISTENERS + HA_WEBSOCKETS))
    r = run([integration.BROKER, "-c", path])
    assert r.returncode == 2, r
    assert ("%s:11: auth_plugin: not supported by mqttwire-broker" % path) in r.stderr, r.stderr
    # Without the plugin block, and password_file in its place: what a user switches to.
    passwd(os.path.join(d, "pw"), "homeassistant")
    ws = HA_WEBSOCKETS if serves_websockets() else ""
    if not ws:
        print("  note: the WebSocket listener of the add-on's file is left out: this build does "
              "not serve WebSocket listeners yet")
    lines = fill(HA_HEAD + "password_file {dir}/pw\n" + HA_LISTENERS + ws).splitlines()
    with Broker(lines, port=port, verbose=False) as b:
        c = client(b.port, "ha-test")
        c.username_pw_set("homeassistant", "homeassistant")
        start(c, b.port)
        assert c.rc == 0, c.rc
        stop(c)
        # log_dest stdout with the add-on's timestamp format, mosquitto's connection message.
        shape = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: New client connected from 127\.0\.0\.1:\d+ "
                 r"as ha-test \(p2, c1, k30, u'homeassistant'\)\.$")
        assert wait_for(lambda: re.search(shape, b.output(), re.M)), b.output()
        assert wait_for(lambda: re.search(r"^\S+ \S+: Client ha-test disconnected\.$",
                                          b.output(), re.M)), b.output()


def test_refusals_name_the_directive_and_the_file():
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-")
    os.mkdir(os.path.join(d, "conf.d"))
    write(os.path.join(d, "conf.d", "10-ok.conf"), "max_keepalive 60\n")
    write(os.path.join(d, "conf.d", "20-bad.conf"), "# local\nmax_keepalve 60\n")
    main = os.path.join(d, "main.conf")
    write(main, "listener %d\ninclude_dir %s/conf.d\n" % (free_port(), d))
    r = run([integration.BROKER, "-c", main])
    assert r.returncode == 2, r
    assert "%s/conf.d/20-bad.conf:2: unknown directive 'max_keepalve'" % d in r.stderr, r.stderr
    write(os.path.join(d, "conf.d", "20-bad.conf"),
          "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\n")
    r = run([integration.BROKER, "-c", main])
    assert r.returncode == 2, r
    assert "20-bad.conf:1: plugin: not supported by mqttwire-broker" in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------
# $SYS


def start_mosquitto(lines):
    port = free_port()
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-mosq-")
    path = os.path.join(d, "mosquitto.conf")
    write(path, "listener %d 127.0.0.1\n" % port + "\n".join(lines) + "\n")
    log = open(os.path.join(d, "mosquitto.log"), "w+")
    p = subprocess.Popen(["mosquitto", "-c", path], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    p.kill()
    p.wait()
    raise RuntimeError("mosquitto did not start")


def shape(topic, payload):
    if topic == "$SYS/broker/version":
        return "version" if re.fullmatch(r"\S+ version \S+", payload) else "bad version"
    if topic == "$SYS/broker/uptime":
        return "uptime" if re.fullmatch(r"\d+ seconds", payload) else "bad uptime"
    if re.fullmatch(r"\d+", payload):
        return "integer"
    if re.fullmatch(r"\d+\.\d\d", payload):
        return "two decimals"
    return "other: " + payload


REQUIRED = ["version", "uptime", "clients/connected", "clients/disconnected", "clients/maximum",
            "clients/total", "messages/received", "messages/sent", "bytes/received", "bytes/sent",
            "subscriptions/count", "retained messages/count", "publish/messages/dropped",
            "load/messages/received/1min", "load/messages/sent/1min"]


def sys_of(port, tag):
    """$SYS seen by a watcher after the same small traffic, and what a `#` subscriber got."""
    everything = start(client(port, tag + "-all"), port)
    subscribe(everything, "#")
    sub = start(client(port, tag + "-sub"), port)
    subscribe(sub, "dev/#", 1)
    pub = start(client(port, tag + "-pub"), port)
    pub.publish("dev/1/state", b"on", qos=1, retain=True).wait_for_publish(TIMEOUT)
    for i in range(3):
        pub.publish("dev/1/temp", b"2%d.5" % i, qos=0)
    assert wait_for(lambda: len(sub.received) == 4)
    got = collect(port, "$SYS/#", 2.5, tag + "-sys")
    stop(pub, sub, everything)
    latest = {}
    for topic, payload, _, _ in got:
        latest[topic] = payload.decode()
    leaked = [m[0] for m in everything.received if m[0].startswith("$")]
    return latest, leaked


def test_sys_topics_match_mosquitto():
    mosq, mport = start_mosquitto(["allow_anonymous true", "sys_interval 1"])
    try:
        theirs, their_leak = sys_of(mport, "m")
    finally:
        mosq.terminate()
        mosq.wait()
    with Broker(["listener {port}", "allow_anonymous true", "sys_interval 1"]) as b:
        ours, our_leak = sys_of(b.port, "o")
    assert not our_leak and not their_leak, (our_leak, their_leak)  # `#` never matches $SYS
    for t in REQUIRED:
        topic = "$SYS/broker/" + t
        assert topic in theirs, "mosquitto has no " + topic
        assert topic in ours, "missing " + topic
    extra = sorted(set(ours) - set(theirs))
    assert not extra, "topics mosquitto does not have: %s" % extra
    for topic in ours:
        assert shape(topic, ours[topic]) == shape(topic, theirs[topic]), \
            (topic, ours[topic], theirs[topic])
    # The same traffic, the same figures where both count the same things.
    for t in ["clients/connected", "subscriptions/count"]:
        topic = "$SYS/broker/" + t
        assert ours[topic] == theirs[topic], (topic, ours[topic], theirs[topic])
    assert int(ours["$SYS/broker/uptime"].split()[0]) <= 10, ours["$SYS/broker/uptime"]
    missing = sorted(set(theirs) - set(ours))
    print("  mosquitto-only topics: %s" % ", ".join(t[len("$SYS/broker/"):] for t in missing))


# ---------------------------------------------------------------------------------------------
# Logging


def test_connection_messages_log_file_and_log_topic():
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-")
    log_path = os.path.join(d, "broker.log")
    with Broker(["listener {port}", "allow_anonymous true", "log_dest file " + log_path,
                 "log_dest topic", "log_type all", "log_timestamp_format %Y-%m-%dT%H:%M:%S"],
                verbose=False) as b:
        logs = start(client(b.port, "log-watcher"), b.port)
        subscribe(logs, "$SYS/broker/log/#")
        c = start(client(b.port, "alice", protocol=mqtt.MQTTv5), b.port)
        subscribe(c, "home/+/temp", 1)
        stop(c)
        # bob: CONNECT (3.1.1, Clean Session, Keep Alive 30), CONNACK, then the socket closes
        # without DISCONNECT.
        with socket.create_connection(("127.0.0.1", b.port), timeout=TIMEOUT) as s:
            s.sendall(bytes([0x10, 15, 0, 4]) + b"MQTT" + bytes([4, 0x02, 0, 30, 0, 3]) + b"bob")
            assert s.recv(4) == bytes([0x20, 2, 0, 0])
        ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: "
        expected = [ts + r"New client connected from 127\.0\.0\.1:\d+ as alice \(p5, c1, k30\)\.",
                    ts + r"alice 1 home/\+/temp",
                    ts + r"Client alice disconnected\.",
                    ts + r"New client connected from 127\.0\.0\.1:\d+ as bob \(p2, c1, k30\)\.",
                    ts + r"Client bob closed its connection\."]
        assert wait_for(lambda: all(re.search("^" + e + "$", read(log_path), re.M)
                                    for e in expected)), read(log_path)
        for e in expected:  # once per event
            assert len(re.findall("^" + e + "$", read(log_path), re.M)) == 1, (e, read(log_path))
        # log_dest topic: the same lines on $SYS/broker/log/<level>, not retained, no debug.
        assert wait_for(lambda: any(m[0] == "$SYS/broker/log/M/subscribe" for m in logs.received))
        topics = {m[0] for m in logs.received}
        assert "$SYS/broker/log/N" in topics, topics
        assert "$SYS/broker/log/D" not in topics, topics
        notices = [m[1].decode() for m in logs.received if m[0] == "$SYS/broker/log/N"]
        assert any(re.fullmatch(expected[0], n) for n in notices), notices
        assert not any(m[3] for m in logs.received), "log lines are not retained"
        stop(logs)


def test_pid_file_and_user():
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-")
    os.chmod(d, 0o755)
    pid_path = os.path.join(d, "broker.pid")
    b = Broker(["listener {port}", "allow_anonymous true", "pid_file " + pid_path,
                "user nobody"], verbose=False)
    try:
        # The listeners accept before the pid file is written and the user changed: wait.
        assert wait_for(lambda: read(pid_path) == "%d\n" % b.proc.pid), read(pid_path)

        def uid():
            status = read("/proc/%d/status" % b.proc.pid)
            return re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
        # Started as root it runs as `user`; as anyone else the directive is ignored.
        want = "65534" if os.geteuid() == 0 else str(os.geteuid())
        assert wait_for(lambda: uid() == want), (uid(), want)
        c = start(client(b.port, "after-drop"), b.port)  # still serving after the drop
        stop(c)
    finally:
        b.stop()
    if os.geteuid() != 0:
        assert not os.path.exists(pid_path), "pid file left behind"
    with Broker(["listener {port}", "allow_anonymous true", "pid_file " + pid_path],
                verbose=False) as b:
        # Started as root, the first broker could not remove its file after the drop: wait for
        # this one to replace it.
        assert wait_for(lambda: read(pid_path) == "%d\n" % b.proc.pid), read(pid_path)
        assert b.stop() == 0
    assert not os.path.exists(pid_path), "pid file removed when the broker stops"


# ---------------------------------------------------------------------------------------------
# SIGHUP


def hup_and_wait(b, text):
    """SIGHUP, then wait for one more `text` line in the broker's output."""
    before = b.output().count(text)
    os.kill(b.proc.pid, signal.SIGHUP)
    assert wait_for(lambda: b.output().count(text) > before), b.output()


def test_sighup_reloads_password_file_and_acl_sessions_stay():
    d = tempfile.mkdtemp(prefix="mqttwire-dropin-")
    pw, acl, log_path = os.path.join(d, "pw"), os.path.join(d, "acl"), os.path.join(d, "log")
    passwd(pw, "alice")
    write(acl, "user alice\ntopic readwrite t/#\nuser bob\ntopic readwrite t/#\n")
    with Broker(["listener {port}", "allow_anonymous false", "password_file " + pw,
                 "acl_file " + acl, "log_dest stderr", "log_dest file " + log_path]) as b:
        alice = client(b.port, "alice-dev", clean=False)
        alice.username_pw_set("alice", "alice")
        dropped = threading.Event()
        alice.on_disconnect = lambda *a: dropped.set()
        start(alice, b.port)
        subscribe(alice, "t/#", 1)

        def bob_connects():
            bob = client(b.port, "bob-dev")
            bob.username_pw_set("bob", "bob")
            bob.connect("127.0.0.1", b.port, keepalive=30)
            bob.loop_start()
            bob.connected.wait(TIMEOUT)
            return bob

        bob = bob_connects()
        assert bob.rc in (4, 5), bob.rc  # not in the file yet: refused
        stop(bob)

        passwd(pw, "alice", "bob")
        hup_and_wait(b, "reloaded password file")
        bob = bob_connects()
        assert bob.rc == 0, bob.rc
        bob.publish("t/1", b"after reload", qos=1).wait_for_publish(TIMEOUT)
        assert wait_for(lambda: any(m[1] == b"after reload" for m in alice.received))
        stop(bob)

        # A broken file is logged and the previous one kept.
        write(pw, "bob:not-a-hash\n")
        hup_and_wait(b, "password_file not reloaded, keeping the previous one")
        bob = bob_connects()
        assert bob.rc == 0, bob.rc
        # The ACL: bob loses write access to t/#.
        write(acl, "user alice\ntopic readwrite t/#\nuser bob\ntopic read t/#\n")
        hup_and_wait(b, "reloaded acl_file")
        bob.publish("t/2", b"denied", qos=1).wait_for_publish(TIMEOUT)
        bob.publish("t/3", b"marker", qos=1)
        time.sleep(0.5)
        assert not any(m[1] in (b"denied", b"marker") for m in alice.received), alice.received
        assert bob.is_connected()  # refused publications, not a dropped connection
        alice.publish("t/4", b"own", qos=1).wait_for_publish(TIMEOUT)
        assert wait_for(lambda: any(m[1] == b"own" for m in alice.received))
        stop(bob)

        # The log file is reopened (rotation): new lines go to the new file.
        os.rename(log_path, log_path + ".1")
        hup_and_wait(b, "reloaded acl_file")
        assert wait_for(lambda: "reloaded acl_file" in read(log_path)), read(log_path)

        # alice kept her connection and her session through all of it.
        assert not dropped.is_set(), "alice was disconnected by a reload"
        assert alice.is_connected()
        stop(alice)


if __name__ == "__main__":
    sys.exit(integration.main(globals()))
