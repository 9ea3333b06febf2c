"""The byte streams the raw clients run over: plain TCP, TLS, WebSocket (RFC 6455) and WSS, plus
the WebSocket pieces the frame-level tests use (handshake, frame encoder and parser).

`configure(kind, cafile)` picks the transport for every later `connect(host, port, timeout)`
(the runner's --transport); `connect` returns an object with sendall, recv, settimeout,
setsockopt, shutdown and close, so RawClient works unchanged on each transport.

Over WebSocket, each sendall() is one masked binary frame (MQTT-6.0.0-1) unless a split size is
set, in which case one MQTT packet spans several frames (MQTT-6.0.0-2); recv() returns the
payload bytes of data frames in order, whatever their alignment with MQTT packets, answers a
ping with a pong and a close with a close.
"""

import base64
import hashlib
import os
import socket
import ssl

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455 section 1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HEADER_BYTES = 16384   # a server's upgrade response is far smaller

_settings = {"kind": "tcp", "cafile": None, "path": "/mqtt", "split": 0,
             "certfile": None, "keyfile": None}


def configure(kind="tcp", cafile=None, path="/mqtt", split=0, certfile=None, keyfile=None):
    if kind not in ("tcp", "tls", "ws", "wss"):
        raise ValueError(f"unknown transport {kind}")
    if kind in ("tls", "wss") and not cafile:
        raise ValueError(f"transport {kind} needs a CA file")
    _settings.update(kind=kind, cafile=cafile, path=path, split=split, certfile=certfile,
                     keyfile=keyfile)


def kind():
    return _settings["kind"]


def cafile():
    return _settings["cafile"]


def client_certificate():
    """(certfile, keyfile) the clients present over TLS, or (None, None)."""
    return _settings["certfile"], _settings["keyfile"]


def tls_context(ca=None, certfile=None, keyfile=None):
    ctx = ssl.create_default_context(cafile=ca or _settings["cafile"])
    if certfile or _settings["certfile"]:
        ctx.load_cert_chain(certfile or _settings["certfile"], keyfile or _settings["keyfile"])
    return ctx


def tcp(host, port, timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tls(host, port, timeout, ctx=None):
    s = tcp(host, port, timeout)
    try:
        return (ctx or tls_context()).wrap_socket(s, server_hostname=host)
    except BaseException:
        s.close()
        raise


def connect(host, port, timeout=3.0):
    """A stream to host:port over the configured transport (handshakes done)."""
    k = _settings["kind"]
    if k == "tcp":
        return tcp(host, port, timeout)
    if k == "tls":
        return tls(host, port, timeout)
    base = tls(host, port, timeout) if k == "wss" else tcp(host, port, timeout)
    try:
        response = handshake(base, host, port, _settings["path"])
        if response.status != 101:
            raise ConnectionError(f"WebSocket upgrade refused: {response.status_line}")
        check_accept(response)
        if response.header("sec-websocket-protocol") != "mqtt":
            raise ConnectionError("WebSocket upgrade without the subprotocol mqtt "
                                  f"(got {response.header('sec-websocket-protocol')!r})")
    except BaseException:
        base.close()
        raise
    return WsStream(base, response.rest, split=_settings["split"])


# ---------------------------------------------------------------------------------------------
# RFC 6455 handshake

class Response:
    def __init__(self, status_line, headers, rest, key):
        self.status_line, self.headers, self.rest, self.key = status_line, headers, rest, key
        parts = status_line.split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def header(self, name):
        return self.headers.get(name.lower())


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def check_accept(response):
    want = accept_for(response.key)
    got = response.header("sec-websocket-accept")
    if got != want:
        raise ConnectionError(f"Sec-WebSocket-Accept {got!r}, expected {want!r}")


def upgrade_request(host, port, path="/mqtt", protocols=("mqtt",), version="13", key=None,
                    extra=(), omit=()):
    """The client's upgrade request; omit names headers to leave out (for refusal tests)."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    headers = [("Host", f"{host}:{port}"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version)]
    if protocols:
        headers.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    headers += list(extra)
    omit = {o.lower() for o in omit}
    lines = [f"GET {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers if k.lower() not in omit]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def read_response(sock, key):
    """Reads the HTTP response head (bounded); bytes after it are kept in .rest."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEADER_BYTES:
            raise ConnectionError("HTTP response head larger than 16 KiB")
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"connection closed during the upgrade (after {buf!r})")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(lines[0], headers, rest, key)


def handshake(sock, host, port, path="/mqtt", protocols=("mqtt",), **kw):
    request, key = upgrade_request(host, port, path, protocols, **kw)
    sock.sendall(request)
    return read_response(sock, key)


# ---------------------------------------------------------------------------------------------
# RFC 6455 frames

def apply_mask(key, data):
    if not data:
        return b""
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None, length=None):
    """One frame; length overrides the encoded payload length (for malformed-frame tests)."""
    n = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        head.append(m | n)
    elif n < 65536:
        head += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([m | 127]) + n.to_bytes(8, "big")
    if mask:
        key = mask_key or os.urandom(4)
        return bytes(head) + key + apply_mask(key, payload)
    return bytes(head) + payload


class Frame:
    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin, self.rsv, self.opcode = fin, rsv, opcode
        self.masked, self.payload = masked, payload

    def close_code(self):
        return int.from_bytes(self.payload[:2], "big") if len(self.payload) >= 2 else None

    def __repr__(self):
        return (f"Frame(fin={self.fin}, rsv={self.rsv}, opcode=0x{self.opcode:x}, "
                f"masked={self.masked}, {len(self.payload)} bytes)")


def parse_frame(buf):
    """(Frame, size) for a whole frame at the start of buf, or (None, 0)."""
    if len(buf) < 2:
        return None, 0
    b0, b1 = buf[0], buf[1]
    n, pos = b1 & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None, 0
        n, pos = int.from_bytes(buf[2:4], "big"), 4
    elif n == 127:
        if len(buf) < 10:
            return None, 0
        n, pos = int.from_bytes(buf[2:10], "big"), 10
    key = None
    if b1 & 0x80:
        if len(buf) < pos + 4:
            return None, 0
        key, pos = bytes(buf[pos:pos + 4]), pos + 4
    if len(buf) < pos + n:
        return None, 0
    payload = bytes(buf[pos:pos + n])
    if key:
        payload = apply_mask(key, payload)
    return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, key is not None, payload), pos + n


class WsStream:
    """A socket-like stream of MQTT bytes over WebSocket frames (client side)."""

    def __init__(self, sock, rest=b"", split=0):
        self.sock, self.buf, self.split = sock, bytearray(rest), split
        self.data = bytearray()
        self.closed = False
        self.close_sent = False
        self.frames = []   # every control frame received, for the frame tests

    def settimeout(self, t):
        self.sock.settimeout(t)

    def setsockopt(self, *a):
        self.sock.setsockopt(*a)

    def shutdown(self, how):
        self.sock.shutdown(how)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def sendall(self, data):
        data = bytes(data)
        if self.split and len(data) > self.split:
            chunks = [data[i:i + self.split] for i in range(0, len(data), self.split)]
            out = b"".join(frame(OP_BINARY if i == 0 else OP_CONT, c, fin=i == len(chunks) - 1)
                           for i, c in enumerate(chunks))
        else:
            out = frame(OP_BINARY, data)
        self.sock.sendall(out)

    def send_close(self, code=1000):
        if not self.close_sent:
            self.close_sent = True
            try:
                self.sock.sendall(frame(OP_CLOSE, code.to_bytes(2, "big")))
            except OSError:
                pass

    def next_frame(self):
        """The next frame from the server; None when the connection ended."""
        while True:
            f, size = parse_frame(self.buf)
            if f is not None:
                del self.buf[:size]
                return f
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def recv(self, n):
        while not self.data:
            if self.closed:
                return b""
            try:
                f = self.next_frame()
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                f = None
            if f is None:
                # the server ended the connection: end ours too, as a browser does (a TLS server
                # may otherwise wait for the client's side before it lets the connection go)
                self.closed = True
                self.close()
                return b""
            if f.opcode in (OP_BINARY, OP_CONT):
                self.data += f.payload
                continue
            self.frames.append(f)
            if f.opcode == OP_PING:
                self.sock.sendall(frame(OP_PONG, f.payload))
            elif f.opcode == OP_CLOSE:
                self.send_close(f.close_code() or 1000)
                self.closed = True
                self.close()
            elif f.opcode == OP_TEXT:
                raise ConnectionError("server sent a text frame (MQTT-6.0.0-1: binary only)")
        out = bytes(self.data[:n])
        del self.data[:n]
        return out
