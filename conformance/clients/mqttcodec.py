"""A small MQTT 3.1 / 3.1.1 / 5.0 codec and a raw socket client for the conformance suite.

Test code, deliberately independent of the C++ core: the scenarios must be able to catch a bug
that the core and its own tests share. It encodes what a client sends (including deliberately
malformed bytes, which scenarios write as hex) and decodes what a server sends.
"""

import socket
import ssl
import struct
import time

import transport

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)
NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
         7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
         12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}

# v5 property identifiers and their wire types
PAYLOAD_FORMAT, MESSAGE_EXPIRY, CONTENT_TYPE, RESPONSE_TOPIC, CORRELATION_DATA = 1, 2, 3, 8, 9
SUBSCRIPTION_ID, SESSION_EXPIRY, ASSIGNED_CLIENT_ID, SERVER_KEEP_ALIVE = 0x0B, 0x11, 0x12, 0x13
AUTH_METHOD, AUTH_DATA, REQUEST_PROBLEM_INFO, WILL_DELAY = 0x15, 0x16, 0x17, 0x18
REQUEST_RESPONSE_INFO, RESPONSE_INFO, SERVER_REFERENCE, REASON_STRING = 0x19, 0x1A, 0x1C, 0x1F
RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS, MAXIMUM_QOS = 0x21, 0x22, 0x23, 0x24
RETAIN_AVAILABLE, USER_PROPERTY, MAXIMUM_PACKET_SIZE = 0x25, 0x26, 0x27
WILDCARD_AVAILABLE, SUB_ID_AVAILABLE, SHARED_AVAILABLE = 0x28, 0x29, 0x2A

_BYTE = {PAYLOAD_FORMAT, REQUEST_PROBLEM_INFO, REQUEST_RESPONSE_INFO, MAXIMUM_QOS,
         RETAIN_AVAILABLE, WILDCARD_AVAILABLE, SUB_ID_AVAILABLE, SHARED_AVAILABLE}
_U16 = {SERVER_KEEP_ALIVE, RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS}
_U32 = {MESSAGE_EXPIRY, SESSION_EXPIRY, WILL_DELAY, MAXIMUM_PACKET_SIZE}
_VARINT = {SUBSCRIPTION_ID}
_BIN = {CORRELATION_DATA, AUTH_DATA}
_STR = {CONTENT_TYPE, RESPONSE_TOPIC, ASSIGNED_CLIENT_ID, AUTH_METHOD, RESPONSE_INFO,
        SERVER_REFERENCE, REASON_STRING}


class DecodeError(Exception):
    pass


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    b = text.encode() if isinstance(text, str) else bytes(text)
    return struct.pack(">H", len(b)) + b


def props(items):
    """items: list of (id, value); user properties are (USER_PROPERTY, (k, v))."""
    if items is None:
        return b""
    body = bytearray()
    for pid, v in items:
        body += varint(pid)
        if pid in _BYTE:
            body += bytes([v])
        elif pid in _U16:
            body += struct.pack(">H", v)
        elif pid in _U32:
            body += struct.pack(">I", v)
        elif pid in _VARINT:
            body += varint(v)
        elif pid in _BIN or pid in _STR:
            body += s(v)
        elif pid == USER_PROPERTY:
            body += s(v[0]) + s(v[1])
        else:
            raise ValueError(f"unknown property {pid}")
    return varint(len(body)) + bytes(body)


def packet(first, body):
    return bytes([first]) + varint(len(body)) + bytes(body)


def connect(client_id, version=4, clean=True, keepalive=60, will=None, username=None,
            password=None, properties=None):
    """will: dict(topic, payload, qos=0, retain=False, properties=None)."""
    name, level = (b"MQIsdp", 3) if version == 3 else (b"MQTT", version)
    flags = 0x02 if clean else 0
    if will:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = s(name) + bytes([level, flags]) + struct.pack(">H", keepalive)
    if version == 5:
        body += props(properties or [])
    body += s(client_id)
    if will:
        if version == 5:
            body += props(will.get("properties") or [])
        body += s(will["topic"]) + s(will.get("payload", b""))
    if username is not None:
        body += s(username)
    if password is not None:
        body += s(password)
    return packet(0x10, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None, version=4,
            properties=None):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    body = s(topic)
    if qos:
        body += struct.pack(">H", pid if pid is not None else 1)
    if version == 5:
        body += props(properties or [])
    return packet(first, body + payload)


def ack(kind, pid, version=4, reason=None, properties=None):
    """PUBACK, PUBREC, PUBREL, PUBCOMP."""
    first = (kind << 4) | (0x02 if kind == PUBREL else 0)
    body = struct.pack(">H", pid)
    if version == 5 and (reason is not None or properties):
        body += bytes([reason or 0])
        if properties:
            body += props(properties)
    return packet(first, body)


def subscribe(pid, filters, version=4, properties=None):
    """filters: list of (filter, options byte) or (filter, qos)."""
    body = struct.pack(">H", pid)
    if version == 5:
        body += props(properties or [])
    for f, o in filters:
        body += s(f) + bytes([o])
    return packet(0x82, body)


def sub_options(qos=0, no_local=False, rap=False, rh=0):
    return qos | (0x04 if no_local else 0) | (0x08 if rap else 0) | (rh << 4)


def unsubscribe(pid, filters, version=4, properties=None):
    body = struct.pack(">H", pid)
    if version == 5:
        body += props(properties or [])
    for f in filters:
        body += s(f)
    return packet(0xA2, body)


def pingreq():
    return b"\xc0\x00"


def disconnect(version=4, reason=0, properties=None):
    if version != 5 or (reason == 0 and not properties):
        return b"\xe0\x00"
    return packet(0xE0, bytes([reason]) + props(properties or []))


def auth(reason=0, properties=None):
    return packet(0xF0, bytes([reason]) + props(properties or []))


# ------------------------------------------------------------------------------------------
# decoding
# ------------------------------------------------------------------------------------------

class Reader:
    def __init__(self, data):
        self.d, self.i = data, 0

    def take(self, n):
        if self.i + n > len(self.d):
            raise DecodeError("truncated")
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def varint(self):
        n, mul = 0, 1
        for _ in range(4):
            b = self.u8()
            n += (b & 0x7F) * mul
            if not b & 0x80:
                return n
            mul *= 128
        raise DecodeError("varint too long")

    def bin(self):
        return self.take(self.u16())

    def str(self):
        return self.bin().decode("utf-8")

    def rest(self):
        b = self.d[self.i:]
        self.i = len(self.d)
        return b

    def left(self):
        return len(self.d) - self.i

    def props(self):
        end = self.varint() + self.i
        out = []
        while self.i < end:
            pid = self.varint()
            if pid in _BYTE:
                v = self.u8()
            elif pid in _U16:
                v = self.u16()
            elif pid in _U32:
                v = self.u32()
            elif pid in _VARINT:
                v = self.varint()
            elif pid in _BIN:
                v = self.bin()
            elif pid in _STR:
                v = self.str()
            elif pid == USER_PROPERTY:
                v = (self.str(), self.str())
            else:
                raise DecodeError(f"unknown property 0x{pid:02x}")
            out.append((pid, v))
        if self.i != end:
            raise DecodeError("property length mismatch")
        return out


class Packet:
    def __init__(self, kind, flags, raw):
        self.type, self.flags, self.raw = kind, flags, raw
        self.props = []
        self.reason = 0
        self.pid = None

    @property
    def name(self):
        return NAMES.get(self.type, str(self.type))

    def prop(self, pid, default=None):
        for k, v in self.props:
            if k == pid:
                return v
        return default

    def all(self, pid):
        return [v for k, v in self.props if k == pid]

    @property
    def user_properties(self):
        return self.all(USER_PROPERTY)

    def __repr__(self):
        fields = {k: v for k, v in self.__dict__.items() if k not in ("raw", "flags")}
        return f"{self.name}{fields}"


def decode(raw, version=4):
    """Decode one whole packet (fixed header included) sent by a server."""
    r = Reader(raw)
    first = r.u8()
    r.varint()
    p = Packet(first >> 4, first & 0x0F, raw)
    v5 = version == 5
    t = p.type
    if t == CONNACK:
        p.session_present = bool(r.u8() & 1)
        p.reason = r.u8()
        if v5 and r.left():
            p.props = r.props()
    elif t == PUBLISH:
        p.qos = (first >> 1) & 3
        p.retain = bool(first & 1)
        p.dup = bool(first & 8)
        p.topic = r.str()
        if p.qos:
            p.pid = r.u16()
        if v5:
            p.props = r.props()
        p.payload = r.rest()
    elif t in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        p.pid = r.u16()
        if v5 and r.left():
            p.reason = r.u8()
            if r.left():
                p.props = r.props()
    elif t in (SUBACK, UNSUBACK):
        p.pid = r.u16()
        if v5:
            p.props = r.props()
        p.codes = list(r.rest())
    elif t in (DISCONNECT, AUTH):
        if r.left():
            p.reason = r.u8()
            if r.left():
                p.props = r.props()
    return p


class Closed(Exception):
    pass


def frame_length(buf):
    """Size of the whole packet at the start of buf, or 0 while more bytes are needed."""
    if len(buf) < 2:
        return 0
    n, mul, i = 0, 1, 1
    while True:
        if i >= len(buf):
            return 0
        b = buf[i]
        n += (b & 0x7F) * mul
        i += 1
        if not b & 0x80:
            break
        mul *= 128
        if i > 4:
            raise DecodeError("bad remaining length")
    return i + n if len(buf) >= i + n else 0


class RawClient:
    """One TCP connection; every wait is bounded."""

    def __init__(self, host, port, version=4, timeout=3.0):
        self.version = version
        self.timeout = timeout
        # TCP, TLS, WebSocket or WSS, as the runner's --transport chose (clients/transport.py)
        self.sock = transport.connect(host, port, timeout)
        self.buf = bytearray()
        # PUBLISHes skipped while waiting for an acknowledgement: a broker may deliver a message
        # to its own publisher before it acknowledges it, and a later expect(PUBLISH) must see it.
        self.held = []
        self.closed = False
        self.log = []

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            # the server ended the connection while this was being written (a TLS stream says
            # so here, TCP only on the next read); recv() reads what it sent before and then
            # reports the close
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _frame(self):
        """Return one whole packet from the buffer, or None."""
        n = frame_length(self.buf)
        if n == 0:
            return None
        raw = bytes(self.buf[:n])
        del self.buf[:n]
        return raw

    def recv(self, timeout=None):
        """Next packet, None on timeout; raises Closed when the server closed the connection."""
        if self.held:
            return self.held.pop(0)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            raw = self._frame()
            if raw is not None:
                p = decode(raw, self.version)
                self.log.append(p)
                return p
            if self.closed:
                raise Closed()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                chunk = b""
            if not chunk:
                self.closed = True
            else:
                self.buf += chunk

    def expect(self, kind, timeout=None, skip=()):
        """Wait for a packet of type kind (skipping types in skip; skipped PUBLISHes are held
        for the next recv)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        stash = []
        while True:
            try:
                p = self.recv(max(0.0, deadline - time.monotonic()))
            except Closed:
                raise AssertionError(f"connection closed while waiting for {NAMES[kind]}")
            if p is None:
                raise AssertionError(f"no {NAMES[kind]} within the time bound")
            if p.type == kind:
                if stash:
                    self.held[:0] = stash
                return p
            if p.type not in skip:
                raise AssertionError(f"expected {NAMES[kind]}, got {p!r}")
            if p.type == PUBLISH:
                stash.append(p)

    def expect_closed(self, timeout=None, allow_disconnect=True):
        """Wait until the server closes; returns the DISCONNECT it sent before, if any."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        disc = None
        while True:
            try:
                p = self.recv(max(0.0, deadline - time.monotonic()))
            except Closed:
                return disc
            if p is None:
                raise AssertionError("connection still open after the time bound")
            if p.type == DISCONNECT and allow_disconnect:
                disc = p
                continue
            if p.type in (PUBLISH, PINGRESP, SUBACK, PUBACK, PUBREC, PUBCOMP, UNSUBACK):
                continue  # packets in flight before the error
            raise AssertionError(f"expected the connection to close, got {p!r}")

    def expect_nothing(self, duration=0.5, kinds=None):
        """No packet (of the given kinds) within duration; returns the others received."""
        deadline = time.monotonic() + duration
        got = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                p = self.recv(left)
            except Closed:
                return got
            if p is None:
                return got
            if kinds is None or p.type in kinds:
                raise AssertionError(f"unexpected {p!r}")
            got.append(p)

    def is_open(self, wait=0.3):
        """True when the server has not closed the connection (a PINGREQ is answered)."""
        try:
            self.send(pingreq())
            self.expect(PINGRESP, timeout=wait + 1.0, skip=(PUBLISH, PUBREL, PUBACK, PUBREC,
                                                             PUBCOMP, SUBACK, UNSUBACK))
            return True
        except (AssertionError, OSError):
            return False
