#!/usr/bin/python3
"""mqttwire-broker's listeners end to end: MQTT over TCP, TLS, WebSockets and WebSockets over TLS
(WSS), with paho-mqtt (Debian's python3-paho-mqtt) and with raw RFC 6455 frames.

    /usr/bin/python3 conformance/broker/tests/transport_test.py \\
        --broker build/dev/conformance/broker/mqttwire-broker --certs CERTDIR \\
        --pub build/dev/conformance/tools/mqttwire-pub

CERTDIR is made by make-certs.sh. One broker serves five listeners (tcp, ws, tls with an RSA
certificate, wss with an ECDSA one, mutual TLS with the client certificate's CN as the user name
and an ACL), with per_listener_settings and handshake_timeout 2; the reload test starts its
own. Every failure case runs next to a bystander: a QoS 1 publisher and
subscriber on plain TCP that must lose nothing while the bad client fails, and the broker must
write one log line naming the cause. Every wait is bounded. Prints one line per test and ends
with `N passed, M failed`.
"""

import argparse
import base64
import os
import queue
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

from script_support import free_port, run_tests

BROKER = None
CERTS = None
PUB = None  # mqttwire-pub, the project's own client
TIMEOUT = 10.0


def cert(name):
    return os.path.join(CERTS, name)


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


class Broker:
    """mqttwire-broker with a configuration; its log lines are kept for the tests to wait on."""

    def __init__(self, lines, directory):
        self.path = os.path.join(directory, "broker.conf")
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([BROKER, "-c", self.path], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        self.wait_log("listening on port", count=sum(l.startswith("listener") for l in lines))

    def _reader(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_log(self, needle, count=1, timeout=TIMEOUT, start=0):
        """The first line from index `start` on containing `needle` (waits for `count`)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [l for l in self.lines[start:] if needle in l]
                if len(found) >= count:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError("no log line with %r; log:\n  %s"
                                         % (needle, "\n  ".join(self.lines[-20:])))
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ----- clients -------------------------------------------------------------------------------

def tls_context(certfile=None, keyfile=None, cafile="ca.pem", min_version=None, max_version=None,
                ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert(cafile))
    if certfile:
        ctx.load_cert_chain(cert(certfile), cert(keyfile))
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


class Client:
    """A paho client whose messages and connection results arrive on queues."""

    def __init__(self, port, transport="tcp", context=None, protocol=mqtt.MQTTv311, cid="",
                 username=None, password=None):
        self.c = mqtt.Client(client_id=cid, protocol=protocol, transport=transport,
                             clean_session=True if protocol != mqtt.MQTTv5 else None)
        if context is not None:
            self.c.tls_set_context(context)
        if username is not None:
            self.c.username_pw_set(username, password)
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        if protocol == mqtt.MQTTv5:
            self.c.on_connect = lambda c, u, f, rc, p=None: self.connacks.put(rc.value)
        else:
            self.c.on_connect = lambda c, u, f, rc: self.connacks.put(rc)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()

    def connack(self):
        try:
            return self.connacks.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no CONNACK within %.0f s" % TIMEOUT)

    def connected(self):
        rc = self.connack()
        expect(rc == 0, "CONNACK %r" % rc)
        return self

    def subscribe(self, topic, qos=1):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        expect(done.wait(TIMEOUT), "no SUBACK for " + topic)

    def publish(self, topic, payload, qos=1):
        info = self.c.publish(topic, payload, qos)
        info.wait_for_publish(timeout=TIMEOUT)
        expect(info.is_published(), "PUBLISH to %s not acknowledged" % topic)

    def receive(self, timeout=TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message within %.0f s" % timeout)

    def nothing(self, wait=0.5):
        try:
            m = self.messages.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError("unexpected message %r" % (m,))

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


class Bystander:
    """A QoS 1 publisher and subscriber on plain TCP, publishing while a bad client fails: none
    of its messages may be lost (rule 9 of DESIGN.md: one client never costs another its
    messages)."""

    def __init__(self, port):
        self.topic = "bystander/%d" % free_port()
        self.sub = Client(port, cid="bystander-sub").connected()
        self.sub.subscribe(self.topic, 1)
        self.pub = Client(port, cid="bystander-pub").connected()
        self.sent = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            self.pub.publish(self.topic, str(self.sent).encode(), 1)
            self.sent += 1
            time.sleep(0.02)

    def check(self, at_least=10):
        deadline = time.monotonic() + TIMEOUT
        while self.sent < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        self.stopping.set()
        self.thread.join(TIMEOUT)
        got = [int(self.sub.receive()[1]) for _ in range(self.sent)]
        expect(got == list(range(self.sent)),
               "bystander lost or reordered messages: %d sent" % self.sent)
        expect(self.sent > 0, "the bystander published nothing")
        self.sub.stop()
        self.pub.stop()


def raw_tls(port, context=None, server_hostname="localhost"):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return (context or tls_context()).wrap_socket(s, server_hostname=server_hostname)


def recv_all(s, timeout=TIMEOUT):
    """Everything until the peer closes (bounded)."""
    s.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data


UPGRADE = ("GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n")


def ws_open(s, version="13", protocol="mqtt"):
    """Sends the upgrade request; returns the response head and the bytes after it."""
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(UPGRADE.format(key=key, version=version, protocol=protocol).encode())
    data = b""
    deadline = time.monotonic() + TIMEOUT
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def ws_frame(opcode, payload, mask=True, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        head = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class FrameReader:
    """Server frames (unmasked) from a socket, with bytes left over from the handshake."""

    def __init__(self, s, rest=b""):
        self.s, self.buf = s, rest

    def _need(self, n):
        deadline = time.monotonic() + TIMEOUT
        while len(self.buf) < n:
            expect(time.monotonic() < deadline, "no complete frame within %.0f s" % TIMEOUT)
            chunk = self.s.recv(65536)
            expect(chunk, "connection closed in the middle of a frame")
            self.buf += chunk

    def frame(self):
        """(opcode, payload); the server must not mask (RFC 6455 section 5.1)."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        expect(b1 & 0x80 == 0, "the server masked a frame")
        n, at = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return b0 & 0x0F, payload

    def mqtt(self, count):
        """`count` bytes of the MQTT stream, whatever the frames were."""
        data = b""
        while len(data) < count:
            op, payload = self.frame()
            expect(op in (0x0, 0x2), "a non-binary data frame from the server: opcode %d" % op)
            data += payload
        return data


# 3.1.1 CONNECT, clean session, keep-alive 60, client id "raw-ws"; CONNACK accepted.
CONNECT = bytes([0x10, 18, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 6]) + b"raw-ws"
CONNACK = bytes([0x20, 2, 0, 0])
# SUBSCRIBE id 1, "raw/t" QoS 0 -> SUBACK id 1 granted 0; PINGREQ -> PINGRESP.
SUBSCRIBE = bytes([0x82, 10, 0, 1, 0, 5]) + b"raw/t" + bytes([0])
SUBACK = bytes([0x90, 3, 0, 1, 0])
PINGREQ, PINGRESP = bytes([0xC0, 0]), bytes([0xD0, 0])


def first_der(name):
    """The first certificate of a PEM chain file, DER-encoded."""
    with open(cert(name)) as f:
        pem = f.read()
    end = "-----END CERTIFICATE-----"
    return ssl.PEM_cert_to_DER_cert(pem[:pem.index(end) + len(end)] + "\n")


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


# ----- the shared broker -----------------------------------------------------------------------

B = None
PORTS = {}


def start_shared(directory):
    global B
    for name in ("tcp", "ws", "tls", "wss", "mtls"):
        PORTS[name] = free_port()
    acl = os.path.join(directory, "acl")
    with open(acl, "w") as f:
        f.write("user sensor-1\ntopic readwrite sensors/#\ntopic read bystander/#\n")
    B = Broker([
        "per_listener_settings true",
        "handshake_timeout 2",
        "listener %d 127.0.0.1" % PORTS["tcp"], "allow_anonymous true",
        "listener %d 127.0.0.1" % PORTS["ws"], "protocol websockets", "allow_anonymous true",
        "listener %d 127.0.0.1" % PORTS["tls"], "allow_anonymous true",
        "certfile " + cert("server-rsa-chain.pem"), "keyfile " + cert("server-rsa.key"),
        "listener %d 127.0.0.1" % PORTS["wss"], "protocol websockets", "allow_anonymous true",
        "certfile " + cert("server-ec-chain.pem"), "keyfile " + cert("server-ec.key"),
        "listener %d 127.0.0.1" % PORTS["mtls"], "allow_anonymous false",
        "certfile " + cert("server-ec-chain.pem"), "keyfile " + cert("server-ec.key"),
        "cafile " + cert("ca.pem"), "require_certificate true", "use_identity_as_username true",
        "acl_file " + acl,
    ], directory)


TRANSPORT = {"tcp": "tcp", "ws": "websockets", "tls": "tcp", "wss": "websockets",
             "mtls": "tcp"}


def client_on(name, protocol=mqtt.MQTTv311, cid="", context=None):
    if context is None and name in ("tls", "wss"):
        context = tls_context()
    if context is None and name == "mtls":
        context = tls_context("client.pem", "client.key")
    return Client(PORTS[name], TRANSPORT[name], context, protocol, cid)


# ----- working transports ----------------------------------------------------------------------

def round_trip(name, protocol):
    c = client_on(name, protocol).connected()
    topic = "rt/%s/%d" % (name, protocol)
    c.subscribe(topic, 1)
    c.publish(topic, b"hello over " + name.encode(), 1)
    expect(c.receive() == (topic, b"hello over " + name.encode()), "round trip over " + name)
    c.stop()


# MQTT5-4.2.0-1 / MQTT5-4.2-1 / MQTT-7.1.1-1: TLS is an ordered, lossless, two-way byte stream
# under MQTT.
def test_tls_v311_and_v5():
    round_trip("tls", mqtt.MQTTv311)
    round_trip("tls", mqtt.MQTTv5)


# MQTT-6.0.0-3 / MQTT-6.0.0-4 / MQTT5-6.0.0-3 / MQTT5-6.0.0-4: paho offers "mqtt" and the
# broker selects it; 3.1.1 and 5.0 over WebSockets and WSS.
def test_websockets_and_wss_v311_and_v5():
    for name in ("ws", "wss"):
        round_trip(name, mqtt.MQTTv311)
        round_trip(name, mqtt.MQTTv5)


def test_client_certificate_with_and_without():
    # Mutual TLS: the certificate is required and its CN (sensor-1) is the user name.
    c = client_on("mtls", mqtt.MQTTv5).connected()
    c.stop()
    # A TLS listener without require_certificate: no certificate needed, one offered is fine.
    client_on("tls").connected().stop()
    client_on("tls", context=tls_context("client.pem", "client.key")).connected().stop()


def test_tls12_ecdhe_rsa_aes128_gcm_sha256():
    # ESP-class devices: TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 against the RSA certificate.
    ctx = tls_context(max_version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES128-GCM-SHA256")
    s = raw_tls(PORTS["tls"], ctx)
    expect(s.version() == "TLSv1.2", "negotiated " + s.version())
    expect(s.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256", "cipher " + s.cipher()[0])
    s.sendall(CONNECT)
    expect(read_exactly(s, 4) == CONNACK, "CONNACK over TLS 1.2")
    s.close()
    round_trip_ctx = Client(PORTS["tls"], "tcp", ctx, mqtt.MQTTv311).connected()
    round_trip_ctx.subscribe("esp/t")
    round_trip_ctx.publish("esp/t", b"ON")
    expect(round_trip_ctx.receive() == ("esp/t", b"ON"), "TLS 1.2 round trip")
    round_trip_ctx.stop()


def read_exactly(s, n):
    """Exactly n bytes from a stream socket (bounded)."""
    s.settimeout(TIMEOUT)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        expect(chunk, "connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


# MQTT5-4.2.0-1 / MQTT-7.1.1-1: every transport carries the same stream, so a message crosses
# from each transport to each other one (5 publishers x 5 subscribers, 3.1.1 and 5.0 mixed).
def test_message_crosses_every_transport_pair():
    names = list(PORTS)
    subs = {n: client_on(n, mqtt.MQTTv5 if i % 2 else mqtt.MQTTv311).connected()
            for i, n in enumerate(names)}
    for n, s in subs.items():
        s.subscribe("sensors/cross/#", 1)
    for i, n in enumerate(names):
        p = client_on(n, mqtt.MQTTv311 if i % 2 else mqtt.MQTTv5).connected()
        p.publish("sensors/cross/" + n, ("from " + n).encode(), 1)
        p.stop()
    for to, s in subs.items():
        got = sorted(s.receive() for _ in names)
        want = sorted(("sensors/cross/" + n, ("from " + n).encode()) for n in names)
        expect(got == want, "%s received %r" % (to, got))
        s.nothing(0.2)
        s.stop()


# MQTT-7.1.2-1 / MQTT5-4.2-1: the project's own client (mqttwire-pub, TCP) reaches subscribers
# on every other transport.
def test_project_client_reaches_every_transport():
    subs = {n: client_on(n).connected() for n in ("ws", "tls", "wss")}
    for s in subs.values():
        s.subscribe("sensors/tool", 1)
    r = subprocess.run([PUB, "-h", "127.0.0.1", "-p", str(PORTS["tcp"]), "-t", "sensors/tool",
                        "-m", "from mqttwire-pub", "-q", "1"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    expect(r.returncode == 0, "mqttwire-pub: %d %s" % (r.returncode, r.stderr))
    for n, s in subs.items():
        expect(s.receive() == ("sensors/tool", b"from mqttwire-pub"), "received over " + n)
        s.stop()


# MQTT-6.0.0-2 / MQTT5-6.0.0-2: large packets span many frames (paho sends them whole; the
# broker frames its copy in pieces of its own): 1 MiB and 3 MiB over WebSockets and WSS.
def test_large_payloads_over_websockets():
    for name in ("ws", "wss"):
        sub = client_on(name).connected()
        sub.subscribe("big/" + name, 1)
        pub = client_on(name, mqtt.MQTTv5).connected()
        for size in (1 << 20, 3 << 20):
            payload = os.urandom(size)
            pub.publish("big/" + name, payload, 1)
            topic, got = sub.receive(30)
            expect(got == payload, "%d bytes over %s came back as %d bytes" %
                   (size, name, len(got)))
        pub.stop()
        sub.stop()


# MQTT-6.0.0-2 / MQTT5-6.0.0-2: a packet split across frames and two packets in one frame.
def test_packets_split_across_frames_and_several_per_frame():
    s = socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=TIMEOUT)
    head, rest = ws_open(s)
    expect(head.startswith("HTTP/1.1 101"), head)
    # MQTT-6.0.0-4 / MQTT5-6.0.0-4: the selected subprotocol is "mqtt".
    expect("sec-websocket-protocol: mqtt" in head.lower(), head)
    r = FrameReader(s, rest)
    s.sendall(ws_frame(0x2, CONNECT[:5], fin=False) + ws_frame(0x0, CONNECT[5:11], fin=False) +
              ws_frame(0x0, CONNECT[11:]))
    expect(r.mqtt(4) == CONNACK, "CONNACK after a CONNECT in three fragments")
    s.sendall(ws_frame(0x2, SUBSCRIBE + PINGREQ))
    expect(r.mqtt(len(SUBACK) + 2) == SUBACK + PINGRESP, "SUBACK and PINGRESP")
    # RFC 6455 5.5.2/5.5.3: a Ping is answered with a Pong carrying its payload.
    s.sendall(ws_frame(0x9, b"are you there"))
    expect(r.frame() == (0xA, b"are you there"), "Pong")
    # RFC 6455 5.5.1: a Close is echoed, then the connection ends.
    s.sendall(ws_frame(0x8, struct.pack("!H", 1000)))
    op, payload = r.frame()
    expect(op == 0x8 and close_code(payload) == 1000, "Close echo %r" % ((op, payload),))
    s.close()


def test_wss_raw_frames():
    s = raw_tls(PORTS["wss"])
    head, rest = ws_open(s)
    expect(head.startswith("HTTP/1.1 101"), head)
    r = FrameReader(s, rest)
    s.sendall(ws_frame(0x2, CONNECT + SUBSCRIBE))
    expect(r.mqtt(4 + len(SUBACK)) == CONNACK + SUBACK, "CONNACK and SUBACK over WSS")
    s.close()


# ----- failures, each next to a bystander -----------------------------------------------------

def with_bystander(body, needle):
    """Runs `body` while the bystander publishes; the broker must log `needle` once."""
    by = Bystander(PORTS["tcp"])
    mark = B.mark()
    try:
        body()
        B.wait_log(needle, start=mark)
    finally:
        by.check()


def tls_refused(port, context, expect_alert=True):
    try:
        s = raw_tls(port, context)
        # TLS 1.3: the client's certificate is judged after the client finished its side.
        s.sendall(CONNECT)
        data = recv_all(s, 3)
        expect(data == b"", "the broker answered %r" % data)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        pass


def test_unknown_ca_client_certificate():
    with_bystander(lambda: tls_refused(PORTS["mtls"],
                                       tls_context("rogue-client.pem", "rogue-client.key")),
                   "TLS handshake failed: client certificate rejected")


def test_no_client_certificate_when_required():
    with_bystander(lambda: tls_refused(PORTS["mtls"], tls_context()),
                   "TLS handshake failed: client sent no certificate")


def test_client_distrusts_the_server():
    # The client does not know our CA: it aborts with an alert; the broker names that.
    ctx = tls_context(cafile="rogue-ca.pem")
    with_bystander(lambda: tls_refused(PORTS["tls"], ctx), "TLS handshake failed")


def test_plain_mqtt_on_a_tls_port():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["tls"]), timeout=TIMEOUT)
        s.sendall(CONNECT)
        data = recv_all(s)
        expect(CONNACK not in data, "a CONNACK in plain text on a TLS port")
        s.close()
    with_bystander(body, "plain MQTT on a TLS port")


def test_garbage_on_a_tls_port():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["wss"]), timeout=TIMEOUT)
        s.sendall(bytes(range(64)))
        recv_all(s)
        s.close()
    with_bystander(body, "not TLS")


def test_stalled_tls_handshake():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["tls"]), timeout=TIMEOUT)
        start = time.monotonic()
        # Half a ClientHello record header, then nothing.
        s.sendall(bytes([0x16, 0x03, 0x01]))
        recv_all(s, 6)
        took = time.monotonic() - start
        expect(1.5 < took < 5, "closed after %.1f s with handshake_timeout 2" % took)
        s.close()
    with_bystander(body, "handshake not complete after 2000 ms")


def test_stalled_websocket_upgrade():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=TIMEOUT)
        s.sendall(b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\n")
        recv_all(s, 6)
        s.close()
    with_bystander(body, "WebSocket upgrade: 37 bytes of the HTTP request received")


def test_bad_websocket_version_is_426():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=TIMEOUT)
        head, _ = ws_open(s, version="8")
        expect(head.startswith("HTTP/1.1 426"), head)
        expect("sec-websocket-version: 13" in head.lower(), head)
        expect(recv_all(s) == b"", "bytes after the refusal")
        s.close()
    with_bystander(body, "WebSocket upgrade refused with HTTP 426")


def test_websocket_without_mqtt_subprotocol_is_refused():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=TIMEOUT)
        head, _ = ws_open(s, protocol="chat")
        expect(head.startswith("HTTP/1.1 400"), head)
        s.close()
    with_bystander(body, "WebSocket upgrade refused with HTTP 400 (no_subprotocol)")


def ws_failure(port_name, frames, code, tls=False):
    s = raw_tls(PORTS[port_name]) if tls else socket.create_connection(
        ("127.0.0.1", PORTS[port_name]), timeout=TIMEOUT)
    head, rest = ws_open(s)
    expect(head.startswith("HTTP/1.1 101"), head)
    r = FrameReader(s, rest)
    s.sendall(ws_frame(0x2, CONNECT))
    expect(r.mqtt(4) == CONNACK, "CONNACK")
    s.sendall(frames)
    op, payload = r.frame()
    expect(op == 0x8 and close_code(payload) == code,
           "expected Close %d, got %r" % (code, (op, payload)))
    expect(recv_all(s) == b"", "bytes after the Close")
    s.close()


def test_unmasked_client_frame_fails_with_1002():
    with_bystander(lambda: ws_failure("ws", ws_frame(0x2, PINGREQ, mask=False), 1002),
                   "close code 1002")


# MQTT-6.0.0-1 / MQTT5-6.0.0-1: binary frames only; a text frame closes the connection.
def test_text_frame_fails_with_1003():
    with_bystander(lambda: ws_failure("wss", ws_frame(0x1, b"PINGREQ"), 1003, tls=True),
                   "close code 1003")


def test_message_over_the_limit_fails_with_1009():
    # A header announcing 300 MB (over the largest MQTT packet): refused from the header alone.
    head = bytes([0x82, 0xFF]) + struct.pack("!Q", 300_000_000) + os.urandom(4)
    with_bystander(lambda: ws_failure("ws", head, 1009), "close code 1009")


def test_oversized_upgrade_request_is_431():
    def body():
        s = socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=TIMEOUT)
        s.sendall(b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\n" +
                  b"X-Filler: " + b"a" * 9000 + b"\r\n\r\n")
        data = recv_all(s)
        expect(data.startswith(b"HTTP/1.1 431"), "answer %r" % data[:40])
        s.close()
    with_bystander(body, "WebSocket upgrade refused with HTTP 431")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_peer_that_never_reads_costs_bounded_memory_and_no_spinning():
    # A WSS client sends 4 MB of Pings and reads nothing: the Pongs it is owed stay within the
    # transports' output bounds, the broker stops reading it instead of buffering more (and
    # without waking up for it again and again), and the bystander loses nothing.
    def body():
        # Small socket buffers on our side, so that the kernel holds little of either stream
        # (the broker's own socket buffers still hold a few MB: the limit below allows them).
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
        raw.settimeout(TIMEOUT)
        raw.connect(("127.0.0.1", PORTS["wss"]))
        s = tls_context().wrap_socket(raw, server_hostname="localhost")
        head, rest = ws_open(s)
        expect(head.startswith("HTTP/1.1 101"), head)
        ping = ws_frame(0x9, b"p" * 125) * 64
        s.setblocking(False)
        limit = 64 << 20
        sent, stalled_since, deadline = 0, None, time.monotonic() + 20
        while sent < limit and time.monotonic() < deadline:
            try:
                sent += s.send(ping)
                stalled_since = None
            except (ssl.SSLWantWriteError, BlockingIOError):
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1:
                    break  # the broker stopped reading us
                time.sleep(0.01)
        expect(sent < limit, "the broker read %d MB of Pings without their Pongs being read"
               % (sent >> 20))
        used = cpu_during(2)
        # Waking up for the blocked peer again and again costs ten times the baseline here.
        expect(used < 3 * baseline + 0.03,
               "the broker used %.3f s of CPU in 2 s with a blocked peer, %.3f s without"
               % (used, baseline))
        s.close()
    def cpu_during(seconds):
        before = cpu_seconds(B.proc.pid)
        time.sleep(seconds)
        return cpu_seconds(B.proc.pid) - before
    by = Bystander(PORTS["tcp"])
    try:
        baseline = cpu_during(2)  # the bystander alone (50 messages a second)
        body()
    finally:
        by.check()


# ----- identity, ACL ---------------------------------------------------------------------------

def test_certificate_cn_is_the_user_name_for_the_acl():
    watcher = client_on("tcp").connected()
    watcher.subscribe("#", 0)
    # The CONNECT's user name and password are ignored: the CN (sensor-1) is the user.
    c = Client(PORTS["mtls"], "tcp", tls_context("client.pem", "client.key"), mqtt.MQTTv311,
               username="somebody-else", password="wrong").connected()
    c.publish("sensors/kitchen/temp", b"21.5", 1)   # allowed for sensor-1
    c.publish("salon/luz/cmd", b"ON", 1)           # not in its ACL: acknowledged, not delivered
    expect(watcher.receive() == ("sensors/kitchen/temp", b"21.5"), "the allowed publish")
    watcher.nothing(0.5)
    c.subscribe("sensors/#", 1)
    watcher.c.publish("sensors/door", b"open", 1)
    expect(c.receive() == ("sensors/door", b"open"), "sensor-1 reads sensors/#")
    c.stop()
    watcher.stop()


def test_certificate_without_cn_is_refused():
    with_bystander(lambda: tls_refused(PORTS["mtls"],
                                       tls_context("client-nocn.pem", "client-nocn.key")),
                   "no user name from the client certificate")


# ----- reload ----------------------------------------------------------------------------------

def test_sighup_reload_keeps_the_old_certificate_when_the_new_one_is_broken():
    with tempfile.TemporaryDirectory(prefix="mqttwire-transport-reload-") as d:
        certfile, keyfile = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
        shutil.copy(cert("server-rsa-chain.pem"), certfile)
        shutil.copy(cert("server-rsa.key"), keyfile)
        port = free_port()
        b = Broker(["listener %d 127.0.0.1" % port, "allow_anonymous true",
                    "certfile " + certfile, "keyfile " + keyfile], d)
        try:
            old = Client(port, "tcp", tls_context()).connected()
            old.subscribe("reload/t")
            # A broken certificate: logged, the old one stays in use.
            with open(certfile, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
            mark = b.mark()
            b.proc.send_signal(signal.SIGHUP)
            b.wait_log("TLS reload failed, the previous certificates stay in use", start=mark)
            s = raw_tls(port)
            expect(s.getpeercert(binary_form=True) == first_der("server-rsa-chain.pem"),
                   "the old certificate is still served")
            s.close()
            # A valid new certificate (ECDSA): new connections get it, the old one goes on.
            shutil.copy(cert("server-ec-chain.pem"), certfile)
            shutil.copy(cert("server-ec.key"), keyfile)
            mark = b.mark()
            b.proc.send_signal(signal.SIGHUP)
            b.wait_log("TLS certificates reloaded", start=mark)
            s = raw_tls(port)
            expect(s.getpeercert(binary_form=True) == first_der("server-ec-chain.pem"),
                   "the new certificate is served")
            s.close()
            old.publish("reload/t", b"still here")
            expect(old.receive() == ("reload/t", b"still here"), "the open connection survives")
            old.stop()
        finally:
            b.stop()


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def quiet_thread_errors(args):
    # paho's network threads die noisily when a refused TLS client is torn down.
    if not issubclass(args.exc_type, (ssl.SSLError, OSError)):
        sys.__excepthook__(args.exc_type, args.exc_value, args.exc_traceback)


def main():
    global BROKER, CERTS, PUB
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--pub", required=True, help="mqttwire-pub")
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    ap.add_argument("--show-log", action="store_true", help="print the broker's log at the end")
    a = ap.parse_args()
    BROKER, CERTS, PUB = a.broker, os.path.abspath(a.certs), a.pub
    threading.excepthook = quiet_thread_errors
    with tempfile.TemporaryDirectory(prefix="mqttwire-transport-") as d:
        start_shared(d)
        try:
            return run_tests(TESTS, a.k)
        finally:
            B.stop()
            if a.show_log:
                print("\n".join(B.lines))


if __name__ == "__main__":
    sys.exit(main())
