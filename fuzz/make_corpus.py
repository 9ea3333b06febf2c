#!/usr/bin/env python3
"""Regenerates the seed corpora fuzz/corpus/<target>/ from tests/vectors/*.vec (and a few
hand-written seeds for the targets that take text rather than packets).

    python3 fuzz/make_corpus.py            # rewrites fuzz/corpus/<target>/seed-* files

Only files named seed-* are replaced; inputs that fuzz.sh merged in (named by their SHA-1)
are kept. Each seed is written in the input layout its target documents at the top of its .cpp.
"""
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
MAX_SEED = 4096  # bytes; larger vectors are left out to keep the corpus fast to replay


def parse_vectors():
    out = []
    for name in sorted(os.listdir(VECTORS)):
        if not name.endswith(".vec"):
            continue
        cur = None
        with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                key, _, rest = line.partition(" ")
                if key == "vector":
                    cur = {"name": rest.strip(), "file": name, "version": "5.0", "expect": "ok",
                           "sender": None, "max": None, "bridge": False, "hex": ""}
                elif key == "end":
                    cur["bytes"] = bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", cur["hex"]))
                    out.append(cur)
                    cur = None
                elif cur is None:
                    continue
                elif key == "version":
                    cur["version"] = rest.strip()
                elif key == "expect":
                    cur["expect"] = rest.strip()
                elif key == "sender":
                    cur["sender"] = rest.strip()
                elif key == "max_packet_size":
                    cur["max"] = int(rest.strip())
                elif key == "bridge_levels":
                    cur["bridge"] = rest.strip() == "yes"
                elif key == "hex":
                    cur["hex"] += " " + rest
    return out


def option_bytes(v):
    """The two option bytes of fuzz_support.hpp read_options()."""
    # Level bits 3 also accept mosquitto's bridge levels (CONNECT carries its own level).
    b = 3 if v["bridge"] else {"3.1": 0, "3.1.1": 1}.get(v["version"], 2)
    b |= {"client": 1 << 2, "server": 2 << 2}.get(v["sender"], 0)
    m = 0
    if v["max"] is not None and v["max"] >= 2 and (v["max"] - 2) % 4 == 0 and (v["max"] - 2) // 4 < 256:
        b |= 0x80
        m = (v["max"] - 2) // 4
    return bytes([b, m])


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8s(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


# (id, type, contexts) after MQTT 5.0 table 2-4; contexts as in property_context.
W, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUB, SUBACK, UNSUB, UNSUBACK, DISC, AUTH = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15)
CTX_INDEX = [W, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUB, SUBACK, UNSUB,
             UNSUBACK, DISC, AUTH]  # order of properties.cpp `contexts`
ACKS = [CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISC, AUTH]
PROPS = [
    (0x01, b"\x01", [PUBLISH, W]), (0x02, b"\x00\x00\x0e\x10", [PUBLISH, W]),
    (0x03, utf8s("text/plain"), [PUBLISH, W]), (0x08, utf8s("reply/to"), [PUBLISH, W]),
    (0x09, utf8s(b"\x00\xff"), [PUBLISH, W]), (0x0B, b"\x80\x01", [PUBLISH, SUB]),
    (0x11, b"\xff\xff\xff\xff", [CONNECT, CONNACK, DISC]), (0x12, utf8s("auto-1"), [CONNACK]),
    (0x13, b"\x00\x3c", [CONNACK]), (0x15, utf8s("SCRAM-SHA-1"), [CONNECT, CONNACK, AUTH]),
    (0x16, utf8s(b"\x01\x02"), [CONNECT, CONNACK, AUTH]), (0x17, b"\x01", [CONNECT]),
    (0x18, b"\x00\x00\x00\x05", [W]), (0x19, b"\x01", [CONNECT]),
    (0x1A, utf8s("resp"), [CONNACK]), (0x1C, utf8s("other:1883"), [CONNACK, DISC]),
    (0x1F, utf8s("because"), ACKS), (0x21, b"\x00\x0a", [CONNECT, CONNACK]),
    (0x22, b"\x00\x0a", [CONNECT, CONNACK]), (0x23, b"\x00\x01", [PUBLISH]),
    (0x24, b"\x01", [CONNACK]), (0x25, b"\x00", [CONNACK]),
    (0x26, utf8s("k") + utf8s("v\u00e9"), [W, CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL,
                                           PUBCOMP, SUB, SUBACK, UNSUB, UNSUBACK, DISC, AUTH]),
    (0x27, b"\x00\x00\x10\x00", [CONNECT, CONNACK]), (0x28, b"\x01", [CONNACK]),
    (0x29, b"\x01", [CONNACK]), (0x2A, b"\x00", [CONNACK]),
]

UTF8_SEEDS = [
    b"", b"a", b"salon/luz/cmd", "\u00e9t\u00e9".encode(), "\u20ac".encode(), "\U0001F600".encode(),
    b"\xef\xbb\xbf", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xed\xa0\x80", b"\xed\x9f\xbf",
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xf0\x80\x80\x80", b"\x80", b"\xbf", b"\xfe",
    b"\xff", b"\x00", b"\x01", b"\x1f", b"\x7f", b"\xc2\x80", b"\xc2\x9f", b"\xc2\xa0",
    b"\xef\xb7\x90", b"\xef\xb7\xaf", b"\xef\xbf\xbe", b"\xef\xbf\xbf", b"\xf0\x9f\xbf\xbe",
    b"\xf4\x8f\xbf\xbe", b"a\xe2\x82", b"a\xf0\x9f", b"a\xf0", b"\xe2\x82\xac\xe2",
]

TOPIC_PAIRS = [
    ("sport/tennis/player1/#", "sport/tennis/player1"), ("sport/#", "sport"),
    ("sport/tennis/#", "sport/tennis/player1/ranking"), ("sport/+", "sport"),
    ("sport/+", "sport/"), ("+/+", "/finance"), ("/+", "/finance"), ("+", "/finance"),
    ("#", "$SYS/uptime"), ("+/monitor/Clients", "$SYS/monitor/Clients"),
    ("$SYS/#", "$SYS/monitor/Clients"), ("$SYS/monitor/+", "$SYS/monitor/Clients"),
    ("+/+", "/"), ("+/#", "a"), ("a/+", "a"), ("#", "a"), ("a/b/c", "a/b/c"),
    ("sport/tennis#", "sport"), ("sport+", "sport"), ("$share/g/a/#", "a/b"),
    ("$share//a", "a"), ("$share/g", "a"), ("$share/g+/a", "a"), ("", ""), ("a//b", "a//b"),
    ("+/+/+", "a//"), ("salon/+/cmd", "salon/luz/cmd"), ("\u00e9/+", "\u00e9/x"),
    ("a/#", "a/\u00e9"), ("+", "\x01"), ("a", "a\xef\xbf\xbf"),
]


def index_seed(ops):
    """ops: (op, client, [symbol indexes]) as subscription_index.cpp reads them."""
    out = bytearray([0])  # shared subscriptions on
    for op, client, syms in ops:
        out.append(op | client << 2)
        out.append(len(syms))
        out.extend(syms)
    return bytes(out)


def ws_frame(op, payload, fin=True, key=None, length=None):
    """One WebSocket frame (RFC 6455 section 5.2); `length` forces a length form."""
    n = len(payload)
    out = bytearray([(0x80 if fin else 0) | op])
    mask = 0x80 if key is not None else 0
    form = length if length is not None else (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        out.append(mask | n)
    elif form == 16:
        out.append(mask | 126)
        out += n.to_bytes(2, "big")
    else:
        out.append(mask | 127)
        out += n.to_bytes(8, "big")
    if key is not None:
        out += key
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes(out) + payload


def websocket_seeds(by_file):
    """Inputs of fuzz/websocket.cpp: flags, limit, chunk count and sizes, bytes."""
    key = bytes([0x37, 0xFA, 0x21, 0x3D])
    server, client, lenient_text = 0x00, 0x01, 0x04

    def deframe(flags, data, chunks=(), limit=0):
        return bytes([flags, limit, len(chunks)]) + bytes(chunks) + data

    # RFC 6455 section 5.7.
    yield "rfc-masked-text", deframe(server | lenient_text, ws_frame(1, b"Hello", key=key))
    yield "rfc-unmasked-text", deframe(client | lenient_text, ws_frame(1, b"Hello"))
    yield "rfc-fragmented", deframe(client | lenient_text,
                                    ws_frame(1, b"Hel", fin=False) + ws_frame(0, b"lo"), (1, 3))
    yield "rfc-ping-pong", deframe(client, ws_frame(9, b"Hello") + ws_frame(10, b"Hello"))
    yield "rfc-256", deframe(client, ws_frame(2, bytes(range(256))), (2, 100))
    yield "text-refused", deframe(server, ws_frame(1, b"x", key=key))
    yield "unmasked-refused", deframe(server, ws_frame(2, b"abc"))
    yield "masked-refused", deframe(client, ws_frame(2, b"abc", key=key))
    yield "rsv1", deframe(server, bytes([0xC2]) + ws_frame(2, b"a", key=key)[1:])
    yield "opcode-3", deframe(server, bytes([0x83]) + ws_frame(2, b"a", key=key)[1:])
    yield "ping-126", deframe(server, ws_frame(9, bytes(126), key=key))
    yield "ping-no-fin", deframe(server, ws_frame(9, b"p", fin=False, key=key))
    yield "lone-continuation", deframe(server, ws_frame(0, b"x", key=key))
    yield "non-minimal-16", deframe(server, ws_frame(2, b"abc", key=key, length=16))
    yield "non-minimal-64", deframe(server | 0x08, ws_frame(2, b"abc", key=key, length=64))
    yield "top-bit", deframe(server, bytes([0x82, 0xFF, 0x80]) + bytes(7) + key)
    yield "too-big", deframe(server | 0x10, ws_frame(2, bytes(40), key=key), limit=2)
    yield "fragments-too-big", deframe(server | 0x10, ws_frame(2, bytes(20), fin=False, key=key)
                                       + ws_frame(0, bytes(20), key=key), limit=2)
    yield "close-1000-reason", deframe(server, ws_frame(8, b"\x03\xe8bye", key=key)
                                       + ws_frame(2, b"after", key=key))
    yield "close-empty", deframe(client, ws_frame(8, b""))
    yield "close-1-byte", deframe(server, ws_frame(8, b"\x03", key=key))
    yield "close-1005", deframe(server, ws_frame(8, b"\x03\xed", key=key))
    yield "close-bad-utf8", deframe(server, ws_frame(8, b"\x03\xe8\xc3\x28", key=key))
    yield "close-after-ours", deframe(server | 0x20, ws_frame(8, b"\x03\xe8", key=key))
    yield "separate-output", deframe(server | 0x40, ws_frame(2, bytes(range(200)), key=key), (5,), 3)
    # MQTT packets of the vector files carried in frames cut at odd places (MQTT-6.0.0-2).
    for (fname, version), packets in sorted(by_file.items()):
        stream = b"".join(packets)[:2000]
        cuts = sorted({0, len(stream)} | set(range(0, len(stream), 37)) | {5, 11})
        cuts = [c for c in cuts if c <= len(stream)]
        wire = b""
        for i in range(len(cuts) - 1):
            part = stream[cuts[i]:cuts[i + 1]]
            wire += ws_frame(2 if i == 0 else 0, part, fin=i + 2 == len(cuts), key=key)
            if i == 1:
                wire += ws_frame(9, b"keepalive", key=key)
        yield f"mqtt-{fname[:-4]}-{version}", deframe(server, wire, (7, 1, 64))

    # Handshakes.
    def head(*lines):
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    request = ["GET /mqtt HTTP/1.1", "Host: localhost:8080", "Upgrade: websocket",
               "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
               "Sec-WebSocket-Protocol: mqtt", "Sec-WebSocket-Version: 13"]
    yield "hs-request", bytes([0x80, 127, 2, 5, 40]) + head(*request)
    yield "hs-request-browser", bytes([0x80, 127, 0]) + head(
        "GET /ws HTTP/1.1", "host: h", "Connection: keep-alive, Upgrade", "upgrade: WebSocket",
        "Sec-WebSocket-Version: 13", "Origin: http://h", "Sec-WebSocket-Extensions: x",
        "sec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==", "Sec-WebSocket-Protocol: mqttv3.1, mqtt")
    yield "hs-request-no-protocol", bytes([0x82, 127, 0]) + head(*request[:5], request[6])
    yield "hs-request-version-8", bytes([0x80, 127, 0]) + head(*request[:6],
                                                               "Sec-WebSocket-Version: 8")
    yield "hs-request-post", bytes([0x80, 127, 0]) + head("POST / HTTP/1.1", *request[1:])
    yield "hs-request-small-limit", bytes([0x80, 1, 0]) + head(*request)
    yield "hs-response", bytes([0x81, 127, 1, 9]) + head(
        "HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=", "Sec-WebSocket-Protocol: mqtt") \
        + ws_frame(2, b"\x20\x02\x00\x00")
    yield "hs-response-426", bytes([0x81, 127, 0]) + head(
        "HTTP/1.1 426 Upgrade Required", "Sec-WebSocket-Version: 13")
def session_seeds():
    """Scripts for fuzz/session.cpp: a configuration byte, then operations (see its header)."""
    def feed(hexbytes):
        b = bytes.fromhex(hexbytes)
        out = b""
        while b:
            part, b = b[:128], b[128:]
            out += bytes([len(part) - 1]) + part
        return out
    connect_311 = "10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 70 63"
    connect_5 = "10 12 00 04 4d 51 54 54 05 00 00 0a 03 22 00 02 00 02 70 63"
    forward = lambda shift, v: bytes([0x80, shift]) + v.to_bytes(2, "big")
    return {
        # Client 3.1.1: CONNACK, QoS 1 out, SUBSCRIBE, SUBACK, PUBACK, QoS 2 in, keep-alive.
        "client-311": bytes([0x12]) + feed("20 02 00 00") + bytes([0x83, 1, 0, 5, 0x85, 0x10])
        + feed("90 03 00 02 01 40 02 00 01") + feed("34 09 00 03 61 2f 62 00 07 68 69")
        + feed("62 02 00 07") + forward(0, 5000) + bytes([0x90]) + feed("d0 00"),
        # Client 5.0, allocator-backed, persistent: aliases both ways, a reconnect with resend.
        "client-5-resume": bytes([0x0c]) + feed("20 06 00 00 03 22 00 02")
        + bytes([0x83, 2, 0, 3, 0x83, 1, 0, 3, 0x83, 1, 2, 40])
        + feed("30 0a 00 03 61 2f 62 03 23 00 01 31 30 07 00 00 03 23 00 01 32")
        + feed("50 02 00 01") + bytes([0x89]) + feed("20 06 01 00 03 22 00 02")
        + feed("70 02 00 01 40 02 00 02") + bytes([0x88, 0]),
        # Client 3.1: refused.
        "client-31-refused": bytes([0x10]) + feed("20 02 00 05"),
        # Client 5.0: silent server, keep-alive timeout.
        "client-5-silent": bytes([0x14]) + feed("20 03 00 00 00") + forward(0, 5000)
        + bytes([0x90]) + forward(0, 6000) + bytes([0x90]),
        # Server 3.1.1: CONNECT, accept, SUBSCRIBE, SUBACK, QoS 1 both ways, PINGREQ, DISCONNECT.
        "server-311": bytes([0x13]) + feed(connect_311) + bytes([0x8a, 0])
        + feed("82 08 00 05 00 03 61 2f 62 01") + bytes([0x85, 1])
        + feed("32 09 00 03 61 2f 62 00 01 68 69") + bytes([0x87, 0, 0x83, 1, 2, 4])
        + feed("40 02 00 01 c0 00") + bytes([0x84, 1, 8]) + feed("e0 00"),
        # Server 5.0, allocator-backed: aliases in, QoS 2 in, receive maximum, resume.
        "server-5-resume": bytes([0x0d]) + feed(connect_5) + bytes([0x8a, 3])
        + feed("34 0c 00 03 61 2f 62 00 01 03 23 00 01 68 69")
        + feed("34 09 00 00 00 02 03 23 00 01 78 62 02 00 01")
        + bytes([0x83, 2, 1, 10, 0x89]) + feed(connect_5) + bytes([0x8a, 1])
        + feed("50 02 00 01 70 02 00 01 a2 06 00 09 00 00 01 61") + bytes([0x86, 0]),
        # Server: a first packet that is not CONNECT; an invalid CONNECT; a refusal.
        "server-not-connect": bytes([0x01]) + feed("c0 00"),
        "server-bad-level": bytes([0x01]) + feed("10 0e 00 04 4d 51 54 54 06 02 00 3c 00 02 70 63"),
        "server-refuse": bytes([0x05]) + feed(connect_5) + bytes([0x8b, 0x87]),
        # Server: keep-alive of a silent client, with the clock going back and forth.
        "server-silent": bytes([0x03]) + feed(connect_311) + bytes([0x8a, 0]) + forward(0, 20000)
        + bytes([0x81, 0, 0x4e, 0x20, 0x90]) + forward(0, 60000) + forward(0, 40000)
        + bytes([0x90]),
    }
# ---- broker_core: operations on the sans-I/O broker (layout at the top of broker_core.cpp) ----

def mqtt_str(t):
    b = t.encode("utf-8")
    return len(b).to_bytes(2, "big") + b


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


def connect(cid, level=4, clean=True, keep_alive=0, props=b"", will=None):
    flags = 0x02 if clean else 0
    payload = mqtt_str(cid)
    if will is not None:
        topic, msg, wprops = will
        flags |= 0x04
        if level == 5:
            payload += varint(len(wprops)) + wprops
        payload += mqtt_str(topic) + len(msg).to_bytes(2, "big") + msg
    body = mqtt_str("MQTT") + bytes([level, flags]) + keep_alive.to_bytes(2, "big")
    if level == 5:
        body += varint(len(props)) + props
    return packet(0x10, body + payload)


def subscribe(pid, flt, q, level=4):
    body = pid.to_bytes(2, "big") + (b"\x00" if level == 5 else b"") + mqtt_str(flt) + bytes([q])
    return packet(0x82, body)


def publish(topic, msg, q=0, pid=0, retain=False, level=4, props=b""):
    body = mqtt_str(topic) + (pid.to_bytes(2, "big") if q else b"")
    if level == 5:
        body += varint(len(props)) + props
    return packet(0x30 | (q << 1) | (1 if retain else 0), body + msg)


def puback(pid):
    return packet(0x40, pid.to_bytes(2, "big"))


class broker_ops:
    def __init__(self, settings=0):
        self.b = bytearray([settings])

    def open(self):
        self.b += bytes([0, 0])
        return self

    def send(self, conn, data):
        for i in range(0, len(data), 8192):
            chunk = data[i:i + 8192]
            if len(chunk) < 256:
                self.b += bytes([1, conn, len(chunk)]) + chunk
            else:
                self.b += bytes([2, conn, len(chunk) & 0xFF, len(chunk) >> 8]) + chunk
        return self

    def lose(self, conn):
        self.b += bytes([3, conn])
        return self

    def read(self, conn, n=None):
        self.b += bytes([4, conn]) if n is None else bytes([5, conn, n // 16])
        return self

    def sleep(self, ms, shift=0):
        self.b += bytes([6 + 32 * shift, 0, ms])
        return self

    def tick(self):
        self.b += bytes([7, 0])
        return self


def main():
    vectors = parse_vectors()
    seeds = {t: {} for t in ("decode_packet", "round_trip", "framer", "properties",
                             "utf8_mosquitto", "topic", "subscription_index", "websocket",
                             "session", "broker_core")}

    def add(target, name, data):
        # broker_core inputs are whole sessions of several clients (its max_len is 16384).
        if len(data) <= (16384 if target == "broker_core" else MAX_SEED):
            seeds[target][name] = data

    by_file = {}
    for v in vectors:
        if len(v["bytes"]) > MAX_SEED:
            continue
        add("decode_packet", v["name"], option_bytes(v) + v["bytes"])
        if v["expect"] == "ok":
            add("round_trip", v["name"], option_bytes(v) + b"\x00" + v["bytes"])
            by_file.setdefault((v["file"], v["version"]), []).append(v["bytes"])
    # Framer: the valid vectors of one file and level back to back, cut in a few ways.
    for (fname, version), packets in sorted(by_file.items()):
        stream = b"".join(packets)[:MAX_SEED]
        base = f"{fname[:-4]}-{version}"
        add("framer", base + "-whole", bytes([0, 0]) + stream)
        add("framer", base + "-split", bytes([3, 0, 1, 7, 2]) + stream)
        add("framer", base + "-limit", bytes([1, 2, 5]) + stream)
    add("framer", "oversize-header", bytes([0, 1]) + b"\x30\xff\xff\xff\x7f")
    add("framer", "five-length-bytes", bytes([0, 0]) + b"\x30\xff\xff\xff\xff\x01")
    add("framer", "non-minimal-length", bytes([0, 0]) + b"\x30\x80\x00")
    # Properties: each property alone and all of a context's properties, per context.
    for ci, ctx in enumerate(CTX_INDEX):
        allowed = [p for p in PROPS if ctx in p[2]]
        for pid, value, _ in allowed:
            block = varint(pid) + value
            add("properties", f"ctx{ctx}-id{pid:02x}", bytes([ci]) + varint(len(block)) + block)
        block = b"".join(varint(pid) + value for pid, value, _ in allowed)
        add("properties", f"ctx{ctx}-all", bytes([ci]) + varint(len(block)) + block)
        add("properties", f"ctx{ctx}-empty", bytes([ci, 0]))
    add("properties", "duplicate", bytes([1]) + b"\x06\x11\x00\x00\x00\x01\x11")
    add("properties", "unknown-id", bytes([1]) + b"\x02\x00\x00")
    for i, s in enumerate(UTF8_SEEDS):
        add("utf8_mosquitto", f"{i:02d}", s)
    for i, (f, n) in enumerate(TOPIC_PAIRS):
        fb, nb = f.encode("utf-8", "surrogateescape"), n.encode("utf-8", "surrogateescape")
        add("topic", f"{i:02d}", bytes([len(fb)]) + fb + nb)
    # Symbols of subscription_index.cpp: 0 a, 1 b, 2 /, 3 +, 4 #, 5 $, 6 $share/g/, 7 $share/h/,
    # 8 $SYS, 9 "", 10 é, 11 0xff.
    add("subscription_index", "basic", index_seed([
        (1, 0, [0, 2, 3]), (1, 1, [0, 2, 4]), (1, 2, [6, 0, 2, 3]), (1, 3, [6, 0, 2, 3]),
        (3, 0, [0, 2, 1]), (0, 1, [0, 2, 4]), (3, 0, [0, 2, 1]), (3, 0, [0])]))
    add("subscription_index", "dollar", index_seed([
        (1, 0, [4]), (1, 1, [3, 2, 1]), (1, 2, [8, 2, 4]), (3, 0, [8, 2, 1]), (3, 0, [5])]))
    add("subscription_index", "replace-and-invalid", index_seed([
        (1, 0, [0]), (2, 0, [0]), (1, 1, [0, 4, 2]), (1, 1, [7]), (1, 2, [10, 2, 3]),
        (3, 0, [10, 2, 0]), (0, 0, [0]), (0, 0, [0]), (3, 0, [0])]))
    add("subscription_index", "empty-levels", index_seed([
        (1, 0, [2, 3]), (1, 1, [3, 2, 3]), (1, 2, [2, 4]), (3, 0, [2]), (3, 0, [2, 2])]))
    for name, data in websocket_seeds(by_file):
        add("websocket", name, data)

    for name, data in session_seeds().items():
        add("session", name, data)

    # broker_core: connections 0, 1, 2 are opened first in each seed.
    def three(settings=0):
        return broker_ops(settings).open().open().open()
    add("broker_core", "qos1-route-and-ack", bytes(three()
        .send(0, connect("sub")).send(0, subscribe(1, "t/#", 1)).read(0)
        .send(1, connect("pub")).send(1, publish("t/x", b"hello", 1, 7)).read(1)
        .read(0).send(0, puback(1)).tick().b))
    add("broker_core", "stuck-qos0-reader", bytes(three()
        .send(0, connect("stuck", 5)).send(0, subscribe(1, "#", 0, 5)).read(0)
        .send(1, connect("flood")).send(1, b"".join(publish("f", b"x" * 200) for _ in range(60)))
        .sleep(250, 3).tick().read(0).b))
    add("broker_core", "full-queue-holds-publisher", bytes(three()
        .send(0, connect("sub")).send(0, subscribe(1, "q", 1)).read(0)
        .send(1, connect("pub")).send(1, b"".join(publish("q", b"m", 1, i + 1) for i in range(40)))
        .read(1).read(0).sleep(200, 2).tick().read(1).b))
    add("broker_core", "queue-overflow-drop", bytes(three(1)
        .send(0, connect("sub")).send(0, subscribe(1, "q", 2)).read(0)
        .send(1, connect("pub")).send(1, b"".join(publish("q", b"m", 2, i + 1) for i in range(40)))
        .read(1).read(0).tick().b))
    add("broker_core", "persistent-session-resumed", bytes(three()
        .send(0, connect("keep", clean=False)).send(0, subscribe(1, "p/+", 1)).read(0).lose(0)
        .send(1, connect("pub")).send(1, b"".join(publish("p/a", b"m", 1, i + 1) for i in range(20)))
        .send(1, connect("keep", clean=False)).open().send(2, connect("keep", clean=False))
        .read(2).tick().b))
    add("broker_core", "will-delay-and-expiry", bytes(three()
        .send(0, connect("watch")).send(0, subscribe(1, "lwt", 0)).read(0)
        .send(1, connect("dev", 5, False, 10, b"\x11\x00\x00\x00\x3c",
                         ("lwt", b"gone", b"\x18\x00\x00\x00\x02")))
        .read(1).lose(1).sleep(250, 3).tick().read(0).sleep(255, 7).tick().b))
    add("broker_core", "pingreq-flood", bytes(three()
        .send(0, connect("pinger")).send(0, b"\xc0\x00" * 4000).tick().read(0, 4000).tick().b))
    add("broker_core", "topic-alias-and-retained", bytes(three()
        .send(0, connect("a5", 5)).read(0)
        .send(0, publish("r/1", b"kept", 1, 3, True, 5, b"\x23\x00\x01"))
        .send(0, publish("", b"again", 0, 0, False, 5, b"\x23\x00\x01"))
        .send(1, connect("late", 5)).send(1, subscribe(2, "r/#", 1, 5)).read(1).read(0).b))
    add("broker_core", "keep-alive-expiry", bytes(three()
        .send(0, connect("ka", keep_alive=1)).read(0).sleep(200, 3).tick().b))

    total = 0
    for target, files in seeds.items():
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            if old.startswith("seed-"):
                os.remove(os.path.join(d, old))
        for name, data in files.items():
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            with open(os.path.join(d, "seed-" + safe), "wb") as f:
                f.write(data)
        total += len(files)
        print(f"{target}: {len(files)} seeds")
    print(f"{total} seeds in {CORPUS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
