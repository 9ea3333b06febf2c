#!/usr/bin/python3
"""Raw RFC 6455 frames against a broker's WebSocket listener: the server rules of MQTT over
WebSockets (MQTT 3.1.1 and 5.0 section 6) and of RFC 6455 that a broker must keep.

    /usr/bin/python3 conformance/transport/ws_frames.py --kind mqttwire --broker PATH
    /usr/bin/python3 conformance/transport/ws_frames.py --kind mosquitto --broker /usr/sbin/mosquitto
    /usr/bin/python3 conformance/transport/ws_frames.py --port PORT --kind NAME   # a running broker

Starts the broker with a `protocol websockets` listener on a free loopback port (and stops it by
PID), unless --port names one already running. Every test opens its own connection and bounds
every wait. A test marked for a broker, with the spec reference of that broker's deviation,
counts as an expected failure there (XFAIL); when it passes it prints `PASS (expected to fail
here: now passes)` so the mark can go. Prints one line per test and ends with
`N passed, M failed, X expected failures`; exit 1 on an unexpected failure.
"""

import argparse
import os
import socket
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients"))

import mqttcodec as m  # noqa: E402
import transport as ws  # noqa: E402
from brokerproc import BrokerDidNotStart, BrokerProcess, Listener  # noqa: E402

HOST = "127.0.0.1"
WAIT = 3.0   # seconds for any one answer; failing a connection is expected at once
TESTS = []


def test(cites, expected_to_fail_on=(), why=""):
    def wrap(fn):
        TESTS.append(dict(name=fn.__name__.replace("_", "-"), fn=fn, cites=cites.split(),
                          xfail=set(expected_to_fail_on), why=why))
        return fn
    return wrap


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Conn:
    """One TCP connection that speaks raw frames; frames in are parsed as they arrive."""

    def __init__(self, port, path="/mqtt", protocols=("mqtt",), upgrade=True, **kw):
        self.sock = socket.create_connection((HOST, port), timeout=WAIT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.mqtt = bytearray()   # MQTT bytes received in data frames, not yet consumed
        self.eof = False
        if upgrade:
            self.response = ws.handshake(self.sock, HOST, port, path, protocols, **kw)
            check(self.response.status == 101,
                  f"upgrade refused: {self.response.status_line}")
            ws.check_accept(self.response)
            self.buf += self.response.rest

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, timeout=WAIT):
        """The next frame, or None when the server closed the TCP connection."""
        deadline = time.monotonic() + timeout
        while True:
            f, size = ws.parse_frame(self.buf)
            if f is not None:
                del self.buf[:size]
                check(not f.masked, "server frame is masked (RFC 6455 5.1: it must not be)")
                return f
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no frame within {timeout} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise AssertionError(f"no frame within {timeout} s")
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if chunk:
                self.buf += chunk
            else:
                self.eof = True

    def mqtt_bytes(self, n, timeout=WAIT):
        """n bytes of MQTT from binary frames (MQTT-6.0.0-1: no other data frame is allowed)."""
        while len(self.mqtt) < n:
            f = self.frame(timeout)
            check(f is not None, f"connection closed after {len(self.mqtt)} of {n} MQTT bytes")
            check(f.opcode in (ws.OP_BINARY, ws.OP_CONT),
                  f"MQTT bytes in a frame with opcode 0x{f.opcode:x} (binary only: MQTT-6.0.0-1)")
            self.mqtt += f.payload
        out = bytes(self.mqtt[:n])
        del self.mqtt[:n]
        return out

    def packet(self, version=4, timeout=WAIT):
        data = bytearray(self.mqtt_bytes(2, timeout))
        while data[-1] & 0x80 and len(data) < 5:
            data += self.mqtt_bytes(1, timeout)
        size, mult = 0, 1
        for b in data[1:]:
            size += (b & 0x7F) * mult
            mult *= 128
        if size:
            data += self.mqtt_bytes(size, timeout)
        return m.decode(bytes(data), version)

    def failed(self, codes, timeout=WAIT):
        """The server must fail the connection (RFC 6455 7.1.7) and say why: a Close frame
        whose code is one of codes (RFC 6455 7.1.7 SHOULD), nothing else before or after; a
        PINGREQ sent after the client's Close reply goes unanswered."""
        f = self.frame(timeout)
        check(f is not None, f"connection ended without a Close frame (expected {sorted(codes)})")
        check(f.opcode == ws.OP_CLOSE, f"expected a Close frame, got {f!r}")
        code = f.close_code()
        check(code in codes, f"close code {code}, expected one of {sorted(codes)}")
        try:
            self.send(ws.frame(ws.OP_CLOSE, code.to_bytes(2, "big")))  # as a client replies
            self.send(mqtt_frame(m.pingreq()))
        except OSError:
            return code
        try:
            end = self.frame(1.0)
        except AssertionError:
            return code          # open a little longer, but silent
        check(end is None, f"{end!r} after the closing handshake")
        return code

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def mqtt_frame(data, **kw):
    return ws.frame(ws.OP_BINARY, data, **kw)


def connect_packet(cid, version=4):
    return m.connect(cid, version, True, 30)


def connected(port, cid, version=4):
    c = Conn(port)
    c.send(mqtt_frame(connect_packet(cid, version)))
    ack = c.packet(version)
    check(ack.type == m.CONNACK and ack.reason == 0, f"expected CONNACK 0, got {ack!r}")
    return c


# ---------------------------------------------------------------------------------------------
# the upgrade

@test("MQTT-6.0.0-3 MQTT-6.0.0-4 MQTT5-6.0.0-3 MQTT5-6.0.0-4")
def subprotocol_mqtt_returned(ctx):
    c = Conn(ctx.port, protocols=("mqtt",))
    check(c.response.header("sec-websocket-protocol") == "mqtt",
          f"Sec-WebSocket-Protocol {c.response.header('sec-websocket-protocol')!r}")


@test("MQTT-6.0.0-4 MQTT5-6.0.0-4")
def subprotocol_mqtt_chosen_from_a_list(ctx):
    c = Conn(ctx.port, protocols=("chat", "mqtt"))
    check(c.response.header("sec-websocket-protocol") == "mqtt",
          f"Sec-WebSocket-Protocol {c.response.header('sec-websocket-protocol')!r}")


@test("")
def subprotocol_mqttv31_for_mqtt_3_1_clients(ctx):
    # MQTT 3.1 clients (paho with MQTTv31) offer the older name "mqttv3.1"
    c = Conn(ctx.port, protocols=("mqttv3.1",))
    check(c.response.header("sec-websocket-protocol") == "mqttv3.1",
          f"Sec-WebSocket-Protocol {c.response.header('sec-websocket-protocol')!r}")
    c.send(mqtt_frame(m.connect(ctx.cid(), 3, True, 30)))
    ack = c.packet(3)
    check(ack.type == m.CONNACK and ack.reason == 0, f"expected CONNACK 0, got {ack!r}")


@test("MQTT-6.0.0-4")
def any_path_accepted(ctx):
    for path in ("/", "/mqtt", "/ws/dashboard?room=salon"):
        c = Conn(ctx.port, path=path)
        c.send(mqtt_frame(connect_packet(ctx.cid())))
        check(c.packet().type == m.CONNACK, f"no CONNACK on path {path}")
        c.close()


@test("", expected_to_fail_on=("mosquitto",),
      why="RFC 6455 4.4: a server that does not speak the requested version answers 426 with "
          "Sec-WebSocket-Version: 13; mosquitto 2.0.11 (libwebsockets 4.1) upgrades a "
          "Sec-WebSocket-Version: 8 request with 101")
def unsupported_version_gets_426(ctx):
    c = Conn(ctx.port, upgrade=False)
    request, key = ws.upgrade_request(HOST, ctx.port, version="8")
    c.send(request)
    r = ws.read_response(c.sock, key)
    check(r.status == 426, f"answered {r.status_line!r}, expected 426 Upgrade Required")
    check("13" in (r.header("sec-websocket-version") or ""),
          f"426 without Sec-WebSocket-Version: 13 ({r.headers})")


# ---------------------------------------------------------------------------------------------
# MQTT in frames

@test("MQTT-6.0.0-1 MQTT5-6.0.0-1")
def answers_in_binary_frames(ctx):
    for version in (4, 5):
        c = connected(ctx.port, ctx.cid(), version)   # mqtt_bytes() rejects non-binary frames
        c.send(mqtt_frame(m.pingreq()))
        check(c.packet(version).type == m.PINGRESP, "no PINGRESP")
        c.close()


@test("MQTT-6.0.0-1 MQTT5-6.0.0-1", expected_to_fail_on=("mosquitto",),
      why="MQTT-6.0.0-1: a data frame that is not binary closes the connection; mosquitto "
          "2.0.11 reads MQTT from a text frame and answers the PINGREQ in it")
def text_frame_closes_the_connection(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_TEXT, m.pingreq()))
    # 1003: data of a type the endpoint cannot accept; 1002: protocol error
    c.failed({1002, 1003})


@test("MQTT-6.0.0-2 MQTT5-6.0.0-2")
def packet_split_across_messages(ctx):
    # CONNECT one byte per binary message, then PINGREQ across two messages
    c = Conn(ctx.port)
    for b in connect_packet(ctx.cid()):
        c.send(mqtt_frame(bytes([b])))
    check(c.packet().type == m.CONNACK, "no CONNACK for a CONNECT sent a byte per message")
    c.send(mqtt_frame(m.pingreq()[:1]) + mqtt_frame(m.pingreq()[1:]))
    check(c.packet().type == m.PINGRESP, "no PINGRESP for a PINGREQ split in two messages")


@test("MQTT-6.0.0-2 MQTT5-6.0.0-2")
def packet_split_across_fragments(ctx):
    # one binary message in fragments (FIN=0 binary, continuation frames, FIN=1)
    c = Conn(ctx.port)
    data = connect_packet(ctx.cid(), 5)
    parts = [data[:1], data[1:3], data[3:10], data[10:]]
    for i, part in enumerate(parts):
        c.send(ws.frame(ws.OP_BINARY if i == 0 else ws.OP_CONT, part, fin=i == len(parts) - 1))
    ack = c.packet(5)
    check(ack.type == m.CONNACK and ack.reason == 0, f"expected CONNACK 0, got {ack!r}")


@test("MQTT-6.0.0-2 MQTT5-6.0.0-2")
def several_packets_in_one_frame(ctx):
    c = Conn(ctx.port)
    t = f"wsframes/{ctx.run}/several"
    c.send(mqtt_frame(connect_packet(ctx.cid()) + m.subscribe(1, [(t, 1)], 4) +
                      m.publish(t, b"one frame", 1, pid=2, version=4) + m.pingreq()))
    seen = [c.packet() for _ in range(5)]
    kinds = sorted(p.type for p in seen)
    check(kinds == sorted([m.CONNACK, m.SUBACK, m.PUBACK, m.PUBLISH, m.PINGRESP]),
          f"got {seen}")
    check(seen[0].type == m.CONNACK, "CONNACK is not the first answer")
    pub = next(p for p in seen if p.type == m.PUBLISH)
    check(pub.payload == b"one frame", f"payload {pub.payload!r}")


@test("MQTT-6.0.0-2 MQTT5-6.0.0-2 MQTT-7.1.1-1 MQTT5-4.2-1")
def quarter_mib_publish_in_many_frames(ctx):
    c = connected(ctx.port, ctx.cid(), 5)
    t = f"wsframes/{ctx.run}/big"
    c.send(mqtt_frame(m.subscribe(1, [(t, 0)], 5)))
    check(c.packet(5).type == m.SUBACK, "no SUBACK")
    # 256 KiB: mosquitto 2.0.11 needs about 6 s to route it over WebSocket (and 14 to 26 s for
    # 1 MiB, against 20 ms over TCP), so a larger payload would only measure that.
    payload = bytes((i * 31 + (i >> 10)) & 0xFF for i in range(1 << 18))
    data = m.publish(t, payload, 0, version=5)
    step = 16384 + 7
    for i in range(0, len(data), step):
        c.send(mqtt_frame(data[i:i + step]))
    p = c.packet(5, timeout=20)
    check(p.type == m.PUBLISH and p.payload == payload,
          f"got {p.type} with {len(getattr(p, 'payload', b''))} bytes, not the 256 KiB sent")


@test("MQTT-6.0.0-2 MQTT5-6.0.0-2")
def one_message_of_packets_above_max_packet_size(ctx):
    # 13 PUBLISH of 256 KiB and a PINGREQ in one message of about 3.3 MB, above the 3 MB
    # max_packet_size this script configures: each packet is within the limit, so the message
    # is taken (the limit is per packet, not per message) and the PINGREQ answered.
    c = connected(ctx.port, ctx.cid())
    t = f"wsframes/{ctx.run}/unread"
    payload = bytes(range(256)) * 1024
    data = b"".join(m.publish(t, payload, 0, version=4) for _ in range(13)) + m.pingreq()
    check(len(data) > 3000000, "the message is not above max_packet_size")
    c.send(mqtt_frame(data))
    p = c.packet(timeout=30)
    check(p.type == m.PINGRESP, f"expected PINGRESP, got {p!r}")


# ---------------------------------------------------------------------------------------------
# RFC 6455 framing rules the server enforces

@test("", expected_to_fail_on=("mosquitto",),
      why="RFC 6455 5.1: a server closes the connection on an unmasked client frame; "
          "mosquitto 2.0.11 (libwebsockets 4.1) accepts it and answers the PINGREQ in it")
def unmasked_client_frame_fails(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(mqtt_frame(m.pingreq(), mask=False))   # RFC 6455 5.1: the server must close
    c.failed({1002})


@test("")
def reserved_bits_fail(ctx):
    for rsv in (1, 2, 4):                            # no extension was negotiated (RFC 6455 5.2)
        c = connected(ctx.port, ctx.cid())
        c.send(mqtt_frame(m.pingreq(), rsv=rsv))
        c.failed({1002})
        c.close()


@test("")
def reserved_opcode_fails(ctx):
    for opcode in (0x3, 0xB):
        c = connected(ctx.port, ctx.cid())
        c.send(ws.frame(opcode, b"x"))
        c.failed({1002})
        c.close()


@test("", expected_to_fail_on=("mosquitto",),
      why="RFC 6455 5.5 and 7.1.7: fail the connection, sending a Close frame (1002) first; "
          "mosquitto 2.0.11 (libwebsockets 4.1) drops the TCP connection without one")
def oversized_control_frame_fails(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_PING, b"p" * 126))        # control payloads are at most 125 bytes
    c.failed({1002})


@test("")
def fragmented_control_frame_fails(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_PING, b"ping", fin=False))  # control frames must not be fragmented
    c.failed({1002})


@test("")
def continuation_without_a_start_fails(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_CONT, m.pingreq()))
    c.failed({1002})


@test("", expected_to_fail_on=("mosquitto",),
      why="RFC 6455 7.4.1 gives 1009 for a message too big to process; mosquitto 2.0.11 "
          "(libwebsockets 4.1) waits for the 64 MiB announced, with no limit from "
          "max_packet_size over WebSocket")
def message_over_the_size_limit_fails(ctx):
    # only the header of a frame announcing 64 MiB: mqttwire-broker's message bound is the
    # larger of 16 MiB and max_packet_size (3 MB here), since one message may carry many
    # packets (MQTT-6.0.0-2); refused on the header (1009: message too big), nothing buffered
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_BINARY, b"", length=64 << 20))
    c.failed({1009})


@test("MQTT-6.0.0-2")
def ping_answered_with_pong_between_fragments(ctx):
    c = connected(ctx.port, ctx.cid())
    ping = m.pingreq()
    # a control frame may arrive between the fragments of a message (RFC 6455 5.4)
    c.send(ws.frame(ws.OP_BINARY, ping[:1], fin=False) + ws.frame(ws.OP_PING, b"are you there") +
           ws.frame(ws.OP_CONT, ping[1:]))
    got = []
    while len(got) < 2:
        f = c.frame()
        check(f is not None, f"connection closed; frames so far {got}")
        got.append(f)
    pong = [f for f in got if f.opcode == ws.OP_PONG]
    check(pong and pong[0].payload == b"are you there", f"no matching Pong in {got}")
    data = b"".join(f.payload for f in got if f.opcode in (ws.OP_BINARY, ws.OP_CONT))
    check(data == bytes([0xD0, 0x00]), f"expected PINGRESP bytes, got {data!r}")


@test("")
def close_echoed(ctx):
    c = connected(ctx.port, ctx.cid())
    c.send(ws.frame(ws.OP_CLOSE, (1000).to_bytes(2, "big") + b"bye"))
    f = c.frame()
    check(f is not None and f.opcode == ws.OP_CLOSE, f"expected a Close frame, got {f!r}")
    check(f.close_code() == 1000, f"close code {f.close_code()}, expected 1000 echoed")
    check(c.frame() is None, "TCP connection still open after the closing handshake")


@test("MQTT-3.14.4-1 MQTT5-3.14.4-2")
def disconnect_then_close(ctx):
    # the client sends DISCONNECT and closes; the broker must not publish the will
    t = f"wsframes/{ctx.run}/will"
    watcher = connected(ctx.port, ctx.cid())
    watcher.send(mqtt_frame(m.subscribe(1, [(t, 0)], 4)))
    check(watcher.packet().type == m.SUBACK, "no SUBACK")
    c = Conn(ctx.port)
    c.send(mqtt_frame(m.connect(ctx.cid(), 4, True, 30, will=dict(topic=t, payload=b"gone"))))
    check(c.packet().type == m.CONNACK, "no CONNACK")
    c.send(mqtt_frame(m.disconnect(4)))
    f = c.frame()                       # the server closes the connection after DISCONNECT
    check(f is None or f.opcode == ws.OP_CLOSE, f"frame after DISCONNECT: {f!r}")
    c.close()
    watcher.send(mqtt_frame(m.pingreq()))
    p = watcher.packet()
    check(p.type == m.PINGRESP, f"the will was published after DISCONNECT: {p!r}")


# ---------------------------------------------------------------------------------------------

class Ctx:
    def __init__(self, port, run):
        self.port, self.run, self.n = port, run, 0

    def cid(self):
        self.n += 1
        return f"wsf{self.run}{self.n}"


def run_tests(port, kind, only):
    run = "%06x" % (os.getpid() & 0xFFFFFF)
    passed = failed = xfailed = 0
    for i, t in enumerate(TESTS):
        if only and not any(o in t["name"] for o in only):
            continue
        ctx = Ctx(port, f"{run}{i:02d}")
        t0 = time.monotonic()
        detail = ""
        try:
            t["fn"](ctx)
            ok = True
        except Exception as e:  # noqa: BLE001 - any error fails the test
            ok = False
            detail = str(e) if isinstance(e, AssertionError) else \
                f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        xfail = kind in t["xfail"]
        if ok:
            passed += 1
            label = "PASS (expected to fail here: now passes)" if xfail else "PASS"
        elif xfail:
            xfailed += 1
            label = "XFAIL"
        else:
            failed += 1
            label = "FAIL"
        line = f"{label:<6} ws-{t['name']}  [{' '.join(t['cites'])}]  {time.monotonic() - t0:.2f}s"
        if not ok:
            line += f"\n         {detail}"
            if xfail:
                line += f"\n         expected: {t['why']}"
        print(line, flush=True)
    return passed, failed, xfailed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="broker", help="mqttwire or mosquitto (selects XFAIL marks)")
    ap.add_argument("--broker", help="the broker executable to start")
    ap.add_argument("--port", type=int, default=0, help="a running broker's WebSocket listener")
    ap.add_argument("-k", dest="only", action="append", default=[])
    args = ap.parse_args()
    if not args.port and not args.broker:
        ap.error("--broker or --port")
    broker = None
    port = args.port
    if not port:
        try:
            broker = BrokerProcess(args.kind, args.broker, [Listener("ws")],
                                   extra=["max_packet_size 3000000"])
        except BrokerDidNotStart as e:
            print(f"FAIL   ws-listener-served  {args.kind} did not serve a WebSocket listener: {e}")
            print("0 passed, 1 failed, 0 expected failures")
            return 1
        port = broker.port("ws")
    try:
        passed, failed, xfailed = run_tests(port, args.kind, args.only)
        if broker and broker.proc.poll() is not None:
            print(f"FAIL   {args.kind} exited during the tests:\n{broker.output()[-2000:]}")
            failed += 1
    finally:
        if broker:
            broker.cleanup()
    print(f"{args.kind}: WebSocket frame tests on port {port}")
    print(f"{passed} passed, {failed} failed, {xfailed} expected failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
