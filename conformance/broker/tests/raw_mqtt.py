"""Raw MQTT on a socket for the broker's process tests: packets built byte by byte and read back
whole, with the socket's timeout (or a deadline) bounding every wait."""

import socket
import time

TIMEOUT = 10.0


def packet(first, body):
    """One MQTT packet: fixed header byte, Remaining Length, body."""
    n, length = len(body), b""
    while True:
        b, n = n % 128, n // 128
        length += bytes([b | (0x80 if n else 0)])
        if not n:
            return bytes([first]) + length + body


def utf8(text):
    b = text.encode()
    return len(b).to_bytes(2, "big") + b


class Wire:
    """A socket read packet by packet: (first byte, body), or None when nothing whole arrives
    within the timeout."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def send(self, data):
        self.sock.sendall(data)

    def next(self, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf) and i <= 4:
                    n += (self.buf[i] & 0x7F) * mult
                    mult *= 128
                    if not self.buf[i] & 0x80:
                        break
                    i += 1
                if i < len(self.buf) and not self.buf[i] & 0x80 and len(self.buf) >= i + 1 + n:
                    first, body = self.buf[0], self.buf[i + 1:i + 1 + n]
                    self.buf = self.buf[i + 1 + n:]
                    return first, body
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def expect(self, packet_type, timeout=TIMEOUT):
        got = self.next(timeout)
        assert got is not None and got[0] >> 4 == packet_type, (packet_type, got)
        return got


def read_packet(sock):
    """(first byte, body) of the next packet; the socket's timeout bounds the wait."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("connection closed")
            data += chunk
        return data
    first = exactly(1)[0]
    n, mult = 0, 1
    while True:
        b = exactly(1)[0]
        n += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first, exactly(n)
