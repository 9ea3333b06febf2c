"""A TCP proxy in front of the broker that forwards whole MQTT packets and can cut a connection
right after a chosen packet: `cut_after("down", PUBLISH, 3)` forwards the third PUBLISH from the
broker to the client, holds back everything the client sends from then on (its PUBACK/PUBREC
never reaches the broker), and closes both sides. The client sees a connection lost mid-flight
and reconnects through the proxy, which keeps accepting. Every wait is bounded; threads are
daemons and stop with the sockets."""

import socket
import threading

import mqttcodec


class _Pair:
    def __init__(self, client, upstream):
        self.client, self.upstream = client, upstream
        self.frozen = {"up": False, "down": False}
        self.closed = False
        self.lock = threading.Lock()

    def close(self):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass


class CuttingProxy:
    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.rule = None          # (direction, packet type, n)
        self.counts = {}
        self.cuts = 0
        self.connections = 0
        self.pairs = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, direction, ptype, n):
        """Cut the connection right after the n-th packet of type `ptype` going `direction`
        ("up": client to broker, "down": broker to client). One-shot."""
        with self.lock:
            self.rule = (direction, ptype, n)
            self.counts = {}

    def stop(self):
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass
        for p in list(self.pairs):
            p.close()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                u = socket.create_connection(self.target, timeout=3)
            except OSError:
                c.close()
                continue
            pair = _Pair(c, u)
            with self.lock:
                self.connections += 1
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, "down"), daemon=True).start()

    def _pump(self, pair, direction):
        src, dst = (pair.client, pair.upstream) if direction == "up" else \
            (pair.upstream, pair.client)
        other = "down" if direction == "up" else "up"
        buf = bytearray()
        src.settimeout(0.2)
        while not pair.closed and not self.stopped:
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while True:
                try:
                    n = mqttcodec.frame_length(buf)
                except mqttcodec.DecodeError:
                    pair.close()
                    return
                if n == 0:
                    break
                pkt = bytes(buf[:n])
                del buf[:n]
                if pair.frozen[direction]:
                    continue  # held back: the connection is being cut
                cut = False
                with self.lock:
                    if self.rule and self.rule[0] == direction and pkt[0] >> 4 == self.rule[1]:
                        k = self.counts.get(direction, 0) + 1
                        self.counts[direction] = k
                        if k == self.rule[2]:
                            cut = True
                            self.rule = None
                            self.cuts += 1
                if cut:
                    pair.frozen[other] = True
                try:
                    dst.sendall(pkt)
                except OSError:
                    pair.close()
                    return
                if cut:
                    pair.close()
                    return
        pair.close()
