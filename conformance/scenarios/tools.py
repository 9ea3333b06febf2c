"""mqttwire-pub and mqttwire-sub (conformance/tools/), the command-line clients built on the
session layer, with mosquitto_pub/mosquitto_sub's options and meanings: every protocol level,
QoS 0/1/2, retained messages and their removal, files and lines, -C and -W, user name and
password, wills, and connections cut mid-flight with a persistent session (QoS 1/2 resumed)
through a proxy that cuts right after a chosen packet (clients/proxy.py). A last scenario points
the clients at a small scripted server that checks, byte by byte, what they send."""

import queue
import socket
import struct
import subprocess
import tempfile
import threading
import time

import mqttcodec as m
from harness import check, scenario

VERSIONS = ("mqttv31", "mqttv311", "mqttv5")


def stderr_lines(p):
    """A queue of the process's stderr lines, read by a daemon thread."""
    q = queue.Queue()

    def pump():
        for line in p.stderr:
            q.put(line)
    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_line(q, text, timeout=5.0):
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        try:
            line = q.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"no '{text}' within {timeout} s; stderr: {''.join(seen)[-600:]!r}")


def start_sub(ctx, *args, port=None):
    """mqttwire-sub with -d, returned once its SUBACK arrived."""
    p = ctx.tool_start("mqttwire-sub", "-d", *args, port=port)
    errs = stderr_lines(p)
    wait_line(errs, "received SUBACK")
    return p


def finish(p, timeout=10):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"the program did not finish within {timeout} s")
    return out.splitlines(), p.returncode


@scenario("tools-pubsub-every-version-and-qos",
          "MQTT-4.3.1-1 MQTT-4.3.2-1 MQTT-4.3.3-1 MQTT5-4.3.2-2 MQTT5-4.3.3-2 MQTT-3.8.4-1",
          "tools", timeout=40)
def _(ctx):
    for v in VERSIONS:
        t = ctx.topic(v)
        sub = start_sub(ctx, "-V", v, "-i", ctx.cid("ts"), "-t", t, "-q", "2", "-C", "3", "-W",
                        "8", "-v")
        for q in (0, 1, 2):
            r = ctx.tool_pub("-V", v, "-t", t, "-m", f"{v}-q{q}", "-q", str(q))
            check(r.returncode == 0, f"mqttwire-pub -V {v} -q {q}: {r.returncode} {r.stderr}")
        out, rc = finish(sub)
        check(rc == 0, f"mqttwire-sub -V {v} exited {rc}")
        check(out == [f"{t} {v}-q0", f"{t} {v}-q1", f"{t} {v}-q2"], f"-V {v}: {out!r}")


@scenario("tools-retained-then-cleared-with-null-message",
          "MQTT-3.3.1-5 MQTT-3.3.1-6 MQTT-3.3.1-10 MQTT-3.3.1-11 MQTT5-3.3.1-6", "tools",
          timeout=30)
def _(ctx):
    t = ctx.topic("salon/luz/stat")
    r = ctx.tool_pub("-t", t, "-m", "ON", "-r", "-q", "1")
    check(r.returncode == 0, r.stderr)
    sub = ctx.tool_start("mqttwire-sub", "-t", t, "-C", "1", "-W", "5")
    out, rc = finish(sub)
    check(rc == 0 and out == ["ON"], f"retained: {out!r} exit {rc}")
    r = ctx.tool_pub("-t", t, "-n", "-r")
    check(r.returncode == 0, r.stderr)
    # -W: exit status 27 when the time is up, as mosquitto_sub.
    sub = ctx.tool_start("mqttwire-sub", "-t", t, "-W", "1")
    out, rc = finish(sub)
    check(rc == 27 and out == [], f"after -n -r: {out!r} exit {rc}")


@scenario("tools-file-lines-and-stdin", "MQTT-4.6.0-6 MQTT5-4.6.0-5 MQTT-4.3.2-1 MQTT-7.1.2-1",
          "tools", timeout=30)
def _(ctx):
    t = ctx.topic()
    sub = start_sub(ctx, "-t", t, "-q", "1", "-C", "5", "-W", "10")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("from a file")
        f.flush()
        r = ctx.tool_pub("-t", t, "-f", f.name, "-q", "1")
        check(r.returncode == 0, r.stderr)
    r = ctx.tool_pub("-t", t, "-l", "-q", "1", stdin="one\ntwo\nthree\n")
    check(r.returncode == 0, r.stderr)
    r = ctx.tool_pub("-t", t, "-s", stdin="all of stdin")
    check(r.returncode == 0, r.stderr)
    out, rc = finish(sub)
    check(out == ["from a file", "one", "two", "three", "all of stdin"], f"{out!r}")
    # Refusals of mosquitto_pub, with its exit status.
    check(ctx.tool_pub("-t", t).returncode == 1, "no message")
    check(ctx.tool_pub("-t", t, "-m", "a", "-n").returncode == 1, "two message sources")
    check(ctx.tool_pub("-t", "a/#", "-m", "a").returncode == 1, "wildcard in a topic name")
    check(ctx.tool_pub("-t", t, "-m", "a", "--will-payload", "x").returncode == 1,
          "will payload without will topic")
    check(ctx.tool_pub("-t", t, "-m", "a", "-c").returncode == 1, "-c without -i")


@scenario("tools-user-name-and-password", "MQTT-3.1.4-4 MQTT-3.2.2-5 MQTT5-3.2.2-7", "auth",
          timeout=30)
def _(ctx):
    port = ctx.need_auth()
    run = ctx.topic_root.split("/")[1]
    t = f"cfacl/{run}/users/alice/tools"
    for v, refused in (("mqttv311", (4, 5)), ("mqttv5", (0x86, 0x87))):
        sub = start_sub(ctx, "-V", v, "-u", "alice", "-P", "alice-pw", "-t", t, "-C", "1",
                        "-W", "8", port=port)
        r = ctx.tool_pub("-V", v, "-u", "alice", "-P", "alice-pw", "-t", t, "-m", v, port=port)
        check(r.returncode == 0, r.stderr)
        out, rc = finish(sub)
        check(out == [v] and rc == 0, f"{v}: {out!r} exit {rc}")
        # A refused CONNECT: the exit status is the CONNACK code, as mosquitto_pub's.
        r = ctx.tool_pub("-V", v, "-u", "alice", "-P", "wrong", "-t", t, "-m", "no", port=port)
        check(r.returncode in refused, f"{v} wrong password: exit {r.returncode} {r.stderr}")


@scenario("tools-will-on-lost-connection-not-on-disconnect",
          "MQTT-3.1.2-8 MQTT5-3.1.2-8 MQTT-3.14.4-3 MQTT5-3.14.4-3", "tools", timeout=30)
def _(ctx):
    w = ctx.topic("will")
    watcher = ctx.paho(4)
    watcher.subscribe(w, 1)
    # Ends with DISCONNECT after one message: no will.
    t = ctx.topic("in")
    sub = start_sub(ctx, "-t", t, "-C", "1", "--will-topic", w, "--will-payload", "gone",
                    "--will-qos", "1")
    ctx.tool_pub("-t", t, "-m", "x")
    out, rc = finish(sub)
    check(rc == 0 and out == ["x"], f"{out!r} {rc}")
    watcher.nothing(0.7)
    # Killed: the connection is lost without DISCONNECT, the will is published.
    sub = start_sub(ctx, "-t", t, "--will-topic", w, "--will-payload", "gone", "--will-qos", "1",
                    "--will-retain")
    sub.kill()
    sub.wait()
    msg = watcher.get(5)
    check(msg.payload == b"gone" and msg.qos == 1, f"will: {msg.payload!r} QoS {msg.qos}")
    ctx.tool_pub("-t", w, "-n", "-r")


@scenario("tools-persistent-sub-resumes-after-cut",
          "MQTT-4.4.0-1 MQTT5-4.4.0-1 MQTT-4.3.3-2 MQTT5-4.3.3-10 MQTT-3.1.2-4 MQTT-4.6.0-1",
          "tools", timeout=60)
def _(ctx):
    # The proxy forwards the 4th PUBLISH to mqttwire-sub and cuts before its PUBREC reaches the
    # broker; the broker resends (DUP) on the resumed session and the message is printed once.
    for v in ("mqttv311", "mqttv5"):
        t = ctx.topic(f"resume-{v}")
        px = ctx.proxy()
        sub = start_sub(ctx, "-V", v, "-c", "-i", ctx.cid("sr"), "-q", "2", "-t", t, "-C", "12",
                        "-W", "20", port=px.port)
        px.cut_after("down", m.PUBLISH, 4)
        pub = ctx.paho(4)
        for i in range(12):
            pub.publish(t, f"m{i}", qos=2)
        out, rc = finish(sub, 25)
        check(px.cuts == 1 and px.connections >= 2, f"cut {px.cuts}, {px.connections} connections")
        check(rc == 0, f"-V {v}: exit {rc}")
        check(out == [f"m{i}" for i in range(12)], f"-V {v}: exactly once, in order: {out!r}")
        pub.disconnect()


@scenario("tools-persistent-pub-resumes-after-cut",
          "MQTT-4.4.0-1 MQTT5-4.4.0-1 MQTT-3.3.1-1 MQTT5-3.3.1-1 MQTT-4.3.3-2 MQTT-4.6.0-1 "
          "MQTT5-4.6.0-1", "tools", timeout=90)
def _(ctx):
    # The proxy forwards mqttwire-pub's 3rd PUBLISH to the broker and cuts before the PUBACK or
    # PUBREC comes back; the program reconnects, resends with DUP and finishes.
    for v in ("mqttv311", "mqttv5"):
        for q in (1, 2):
            t = ctx.topic(f"pub-{v}-q{q}")
            watcher = ctx.paho(4)
            watcher.subscribe(t, 2)
            px = ctx.proxy()
            px.cut_after("up", m.PUBLISH, 3)
            lines = [f"m{i}" for i in range(10)]
            r = ctx.tool_pub("-V", v, "-c", "-i", ctx.cid("pr"), "-q", str(q), "-t", t, "-l",
                             port=px.port, stdin="\n".join(lines) + "\n", timeout=20)
            check(r.returncode == 0, f"-V {v} -q {q}: exit {r.returncode} {r.stderr}")
            check(px.cuts == 1 and px.connections >= 2, f"cut {px.cuts}, {px.connections}")
            got = []
            end = time.monotonic() + 5
            while len(set(got)) < len(lines) and time.monotonic() < end:
                try:
                    got.append(watcher.get(0.5).payload.decode())
                except AssertionError:
                    pass
            first = list(dict.fromkeys(got))
            check(first == lines, f"-V {v} -q {q}: every line, in order: {got!r}")
            if q == 2:
                check(got == lines, f"-V {v}: QoS 2 exactly once: {got!r}")
            watcher.disconnect()


# ------------------------------------------------------------------------------------------
# A scripted server that checks what the clients send


def read_packet(sock, timeout=5.0):
    sock.settimeout(timeout)
    head = sock.recv(1)
    if not head:
        raise AssertionError("client closed the connection")
    n, mul = 0, 1
    while True:
        b = sock.recv(1)[0]
        n += (b & 0x7F) * mul
        mul *= 128
        if not b & 0x80:
            break
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            raise AssertionError("client closed inside a packet")
        body += chunk
    return head[0], body


def parse_connect(body):
    r = m.Reader(body)
    out = dict(name=r.str(), level=r.u8())
    flags = r.u8()
    out.update(clean=bool(flags & 2), will=bool(flags & 4), will_qos=(flags >> 3) & 3,
               will_retain=bool(flags & 0x20), has_password=bool(flags & 0x40),
               has_user=bool(flags & 0x80), keepalive=r.u16())
    out["props"] = r.props() if out["level"] == 5 else []
    out["id"] = r.str()
    if out["will"]:
        if out["level"] == 5:
            r.props()
        out["will_topic"], out["will_payload"] = r.str(), r.bin()
    if out["has_user"]:
        out["user"] = r.str()
    if out["has_password"]:
        out["password"] = r.bin()
    check(r.left() == 0, "bytes after the CONNECT payload")
    return out


@scenario("tools-what-the-clients-send", "MQTT-3.1.2-4 MQTT-4.4.0-1 MQTT-3.3.1-1 MQTT-2.3.1-3 "
          "MQTT-3.1.0-1 MQTT-3.14.4-2", "tools", timeout=30)
def _(ctx):
    ctx.tool("mqttwire-pub")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    ctx.cleanup.append(srv.close)
    cid = ctx.cid("fk")
    proc = subprocess.Popen(
        [ctx.tool("mqttwire-pub"), "-h", "127.0.0.1", "-p", str(srv.getsockname()[1]),
         "-V", "mqttv31", "-i", cid, "-c", "-k", "17", "-u", "user", "-P", "secret",
         "--will-topic", "w/t", "--will-payload", "bye", "--will-qos", "2", "--will-retain",
         "-t", "a/b", "-m", "payload", "-q", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ctx.cleanup.append(lambda: proc.poll() is None and proc.kill())
    srv.settimeout(5)
    conn, _ = srv.accept()
    first, body = read_packet(conn)
    check(first == 0x10, f"first packet 0x{first:02x}, not CONNECT")  # MQTT-3.1.0-1
    c = parse_connect(body)
    check((c["name"], c["level"]) == ("MQIsdp", 3), f"-V mqttv31: {c['name']} {c['level']}")
    check(not c["clean"] and c["keepalive"] == 17 and c["id"] == cid, f"-c -k -i: {c}")
    check(c.get("user") == "user" and c.get("password") == b"secret", f"-u -P: {c}")
    check(c["will"] and c["will_qos"] == 2 and c["will_retain"] and c["will_topic"] == "w/t"
          and c["will_payload"] == b"bye", f"will options: {c}")
    conn.sendall(b"\x20\x02\x00\x00")
    first, body = read_packet(conn)
    check(first == 0x32, f"PUBLISH QoS 1, DUP 0: 0x{first:02x}")
    r = m.Reader(body)
    topic, pid, payload = r.str(), r.u16(), r.rest()
    check(topic == "a/b" and pid != 0 and payload == b"payload", f"{topic} {pid} {payload!r}")
    conn.close()  # lost before PUBACK: the program reconnects and resends
    conn, _ = srv.accept()
    first, body = read_packet(conn, 5)
    check(first == 0x10 and not parse_connect(body)["clean"], "reconnect with the session")
    conn.sendall(b"\x20\x02\x01\x00")  # Session Present
    first, body = read_packet(conn)
    r = m.Reader(body)
    check(first == 0x3A and r.str() == "a/b" and r.u16() == pid,
          f"resent with DUP 1 and the same identifier: 0x{first:02x}")
    conn.sendall(b"\x40\x02" + struct.pack(">H", pid))
    first, body = read_packet(conn)
    check(first == 0xE0 and body == b"", f"DISCONNECT last: 0x{first:02x}")
    proc.wait(5)
    check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr.read()}")
    conn.close()
