#!/usr/bin/python3
"""Soak test of mqttwire-broker (not part of CI): mixed traffic from about a thousand clients
for a long time, with random abrupt disconnects, then two checks:

  * zero loss for QoS 1 and 2 into persistent sessions: every message the broker acknowledged
    to its publisher (PUBACK, PUBREC) reaches its subscriber, which drops its connection at
    random and resumes its session; QoS 2 exactly once;
  * memory: the broker's RSS once every client has gone and every session has ended is back
    near what it was at the start.

    bench/soak/soak.py --broker build/release/conformance/broker/mqttwire-broker
    bench/soak/soak.py --broker ... --duration 600 --clients 1000

Clients (shares of --clients): 10% persistent subscribers (half QoS 1, half QoS 2; 3.1.1 with
Clean Session 0 and 5.0 with a Session Expiry Interval), 10% publishers to them (about 5
messages/s each, at most 10 unacknowledged), 80% QoS 0 clients in small groups (half publish
about one message/s, 10..2000 bytes, now and then 256 KiB or a retained state; half subscribe
to their group). Every client closes its socket without DISCONNECT about once a minute and
comes back 0.1..3 s later. One thread, one selector, raw sockets and the conformance suite's
own codec (conformance/clients/mqttcodec.py), not the C++ core. Prints progress every 30 s and
a summary; exits non-zero when something was lost or duplicated.
"""

import argparse
import heapq
import os
import random
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "conformance", "clients"))
import mqttcodec as m  # noqa: E402


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def peak_kb(pid):
    return status_kb(pid, "VmHWM")


class Client:
    """One MQTT client on a non-blocking socket."""

    def __init__(self, soak, name, version, clean, role, index):
        self.soak, self.name, self.version, self.clean = soak, name, version, clean
        self.role, self.index = role, index
        self.sock = None
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.connected = False
        self.next_pid = 0
        self.unacked = {}        # publisher: pid -> (target, seq)
        self.awaiting_rel = set()  # QoS 2 receiver: pids between PUBREC and PUBREL
        self.seq = 0
        self.sessions = 0

    # ---- connection --------------------------------------------------------------------

    def open(self):
        if self.sock is not None:
            return  # already back (two reconnects were scheduled)
        s = socket.socket()
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(("127.0.0.1", self.soak.port))
        except BlockingIOError:
            pass
        self.sock = s
        self.inbuf.clear()
        self.outbuf.clear()
        self.connected = False
        self.soak.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, self)
        props = [(m.SESSION_EXPIRY, 3600)] if self.version == 5 and not self.clean else None
        self.send(m.connect(self.name, version=self.version, clean=self.clean, keepalive=60,
                            properties=props))

    def drop(self, reconnect_after=None):
        if self.sock is not None:
            try:
                self.soak.sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
            self.sock = None
        self.connected = False
        if self.role == "publisher":
            self.unacked.clear()  # not acknowledged by the broker: not counted
        if reconnect_after is not None:
            self.soak.later(reconnect_after, self.open)

    def send(self, data):
        self.outbuf += data
        self.flush()

    def flush(self):
        if self.sock is None:
            return
        try:
            while self.outbuf:
                n = self.sock.send(self.outbuf)
                if n <= 0:
                    break
                del self.outbuf[:n]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.drop(reconnect_after=random.uniform(0.1, 3.0))
            return
        if self.sock is not None:
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.outbuf else 0)
            self.soak.sel.modify(self.sock, want, self)

    def readable(self):
        try:
            data = self.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.soak.stats["closed_by_broker"] += 1
            self.drop(reconnect_after=random.uniform(0.1, 3.0))
            return
        self.inbuf += data
        while True:
            n, size = len(self.inbuf), None
            if n < 2:
                return
            mult, value, i = 1, 0, 1
            while i < n and i < 5:
                b = self.inbuf[i]
                value += (b & 0x7F) * mult
                mult *= 128
                i += 1
                if not b & 0x80:
                    size = i + value
                    break
            if size is None or n < size:
                return
            raw = bytes(self.inbuf[:size])
            del self.inbuf[:size]
            self.on_packet(m.decode(raw, self.version))
            if self.sock is None:
                return

    # ---- protocol ----------------------------------------------------------------------

    def on_packet(self, p):
        s = self.soak
        if p.type == m.CONNACK:
            if p.reason != 0:
                s.fail(f"{self.name}: CONNACK {p.reason}")
                return
            self.connected = True
            self.sessions += 1
            if (self.role == "persistent" and not self.clean and self.sessions > 1
                    and not p.session_present):
                s.fail(f"{self.name}: session not present after reconnecting")
            if self.role == "persistent" and not p.session_present:
                q = 2 if self.index % 2 else 1
                self.send(m.subscribe(1, [(f"soak/ps/{self.index}/#", q)], self.version))
            elif self.role == "chat-sub":
                self.send(m.subscribe(1, [(f"soak/chat/{self.group()}/#", 0)], self.version))
        elif p.type == m.PUBLISH:
            if p.qos == 1:
                self.send(m.ack(m.PUBACK, p.pid, self.version))
            elif p.qos == 2:
                self.send(m.ack(m.PUBREC, p.pid, self.version))
                if p.pid in self.awaiting_rel:
                    return  # a resend before PUBREL: not a new delivery
                self.awaiting_rel.add(p.pid)
            if self.role == "persistent" and p.topic.startswith("soak/ps/"):
                pub, seq = struct.unpack(">II", p.payload[:8])
                key = (self.index, pub)
                got = s.received.setdefault(key, {})
                got[seq] = got.get(seq, 0) + 1
                if got[seq] > 1:
                    s.stats["dup_q2" if p.qos == 2 else "dup_q1"] += 1
            else:
                s.stats["chat_delivered"] += 1
        elif p.type == m.PUBREL:
            self.awaiting_rel.discard(p.pid)
            self.send(m.ack(m.PUBCOMP, p.pid, self.version))
        elif p.type in (m.PUBACK, m.PUBREC):
            if p.type == m.PUBREC:
                self.send(m.ack(m.PUBREL, p.pid, self.version))
            entry = self.unacked.pop(p.pid, None)
            if entry is not None and p.reason < 0x80:
                target, seq = entry
                s.acked.setdefault((target, self.index), set()).add(seq)
                s.stats["acked"] += 1
        elif p.type == m.DISCONNECT:
            s.stats["disconnect_from_broker"] += 1

    def tick(self):
        """About once a second: publish, and maybe drop the connection."""
        s = self.soak
        if self.sock is None:
            return
        if random.random() < s.drop_chance:
            s.stats["random_drops"] += 1
            self.drop(reconnect_after=random.uniform(0.1, 3.0))
            return
        if not self.connected or s.stopping:
            return
        if self.role == "publisher":
            target = (self.index * 7 + random.randrange(3)) % s.n_persistent
            q = 2 if target % 2 else 1
            for _ in range(5):
                if len(self.unacked) >= 10:
                    break
                self.next_pid = self.next_pid % 65535 + 1
                seq = self.seq
                self.seq += 1
                self.unacked[self.next_pid] = (target, seq)
                self.send(m.publish(f"soak/ps/{target}/from/{self.index}",
                                    struct.pack(">II", self.index, seq), q, pid=self.next_pid,
                                    version=self.version))
                s.stats["published_q12"] += 1
        elif self.role == "chat-pub":
            retain = random.random() < 0.05
            if retain:
                self.send(m.publish(f"soak/state/{self.index}", os.urandom(8) + b"s" * 100, 0,
                                    retain=True, version=self.version))
            else:
                size = 256 * 1024 if random.random() < 0.002 else random.randint(10, 2000)
                self.send(m.publish(f"soak/chat/{self.group()}/{self.index}",
                                    os.urandom(8) + b"x" * size, 0, version=self.version))
            s.stats["chat_published"] += 1

    def group(self):
        # Publishers (odd index) and subscribers (even index) side by side share a group.
        return (self.index // 2) % self.soak.groups


class Soak:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.timers = []
        self.counter = 0
        self.stats = {k: 0 for k in ("acked", "published_q12", "dup_q1", "dup_q2", "chat_published",
                                      "chat_delivered", "random_drops", "closed_by_broker",
                                      "disconnect_from_broker")}
        self.acked = {}     # (subscriber, publisher) -> set of acknowledged seqs
        self.received = {}  # (subscriber, publisher) -> {seq: count}
        self.failures = []
        self.stopping = False
        self.drop_chance = 1 / 60
        n = a.clients
        self.n_persistent = max(2, n // 10)
        self.groups = max(1, (n * 8 // 10) // 10)
        self.clients = []
        for i in range(self.n_persistent):
            self.clients.append(Client(self, f"soak-ps-{i}", 5 if i % 4 == 0 else 4, False,
                                       "persistent", i))
        for i in range(max(1, n // 10)):
            self.clients.append(Client(self, f"soak-pub-{i}", 4, True, "publisher", i))
        for i in range(n - len(self.clients)):
            role = "chat-pub" if i % 2 else "chat-sub"
            self.clients.append(Client(self, f"soak-chat-{i}", 5 if i % 3 == 0 else 4, True,
                                       role, i))

    def fail(self, why):
        if len(self.failures) < 20:
            print("FAIL:", why, flush=True)
        self.failures.append(why)

    def later(self, delay, fn):
        self.counter += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.counter, fn))

    def start_broker(self):
        self.dir = tempfile.mkdtemp(prefix="mqttwire-soak-")
        self.port = self.a.port or self.free_port()
        conf = os.path.join(self.dir, "broker.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n")
        self.log = open(os.path.join(self.dir, "broker.log"), "w+")
        self.proc = subprocess.Popen([self.a.broker, "-c", conf], stderr=self.log,
                                     stdout=self.log)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)

    def clear_retained(self):
        # The retained states the chat clients left (an empty retained message removes one).
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as c:
            out = bytearray(m.connect("soak-cleaner"))
            for cl in self.clients:
                if cl.role == "chat-pub":
                    out += m.publish(f"soak/state/{cl.index}", b"", 0, retain=True)
            out += m.disconnect()
            c.sendall(out)
            try:
                while c.recv(65536):
                    pass
            except OSError:
                pass

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def run_for(self, seconds, every=None):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            wait = 0.05
            if self.timers:
                wait = max(0.0, min(wait, self.timers[0][0] - now))
            for key, ev in self.sel.select(wait):
                c = key.data
                if ev & selectors.EVENT_WRITE:
                    c.flush()
                if c.sock is not None and ev & selectors.EVENT_READ:
                    c.readable()
            if every:
                every()

    def tick_all(self):
        for c in self.clients:
            c.tick()
        if not self.stopping:
            self.later(1.0, self.tick_all)

    def main(self):
        self.start_broker()
        pid = self.proc.pid
        start_rss = rss_kb(pid)
        print(f"soak: broker pid {pid} port {self.port}, {len(self.clients)} clients, "
              f"{self.a.duration} s; RSS at start {start_rss / 1024:.1f} MB", flush=True)
        for i, c in enumerate(self.clients):
            self.later(i * 0.003, c.open)
        self.later(5.0, self.tick_all)
        t0 = time.monotonic()
        warm_rss = None
        while time.monotonic() - t0 < self.a.duration:
            self.run_for(min(30, self.a.duration - (time.monotonic() - t0)))
            r = rss_kb(pid)
            if warm_rss is None:
                warm_rss = r
            st = self.stats
            print(f"soak {time.monotonic() - t0:6.0f} s: RSS {r / 1024:.1f} MB, "
                  f"q1/q2 published {st['published_q12']} acked {st['acked']}, chat "
                  f"{st['chat_published']} -> {st['chat_delivered']}, drops {st['random_drops']}, "
                  f"closed by broker {st['closed_by_broker']}", flush=True)
        # Quiesce: no more publishing or random drops; everybody reconnects and drains.
        self.stopping = True
        self.drop_chance = 0
        self.run_for(max(20.0, self.a.drain))
        closed_by_broker = self.stats["closed_by_broker"]
        lost = 0
        for key, seqs in self.acked.items():
            got = self.received.get(key, {})
            lost += sum(1 for q in seqs if q not in got)
        peak = peak_kb(pid)
        in_use_rss = rss_kb(pid)
        # Everybody leaves; persistent sessions are ended with Clean Session / Clean Start.
        for c in self.clients:
            c.drop()
        for c in self.clients:
            if c.role == "persistent":
                c.clean = True
                c.open()
        self.run_for(3)
        for c in self.clients:
            if c.sock is not None:
                c.send(m.disconnect(c.version))
        self.run_for(2)
        for c in self.clients:
            c.drop()
        self.clear_retained()
        time.sleep(2)
        end_rss = rss_kb(pid)
        self.proc.terminate()
        self.proc.wait(10)
        self.log.seek(0)
        stats_line = [line for line in self.log.read().splitlines() if "clients connected" in line]
        st = self.stats
        print("\nsoak summary")
        print(f"  duration {self.a.duration} s, clients {len(self.clients)} "
              f"({self.n_persistent} persistent subscribers)")
        print(f"  QoS 1/2 into persistent sessions: published {st['published_q12']}, "
              f"acknowledged by the broker {st['acked']}, lost {lost}, "
              f"duplicates QoS 1 {st['dup_q1']} (allowed), QoS 2 {st['dup_q2']}")
        print(f"  QoS 0 chat: published {st['chat_published']}, delivered {st['chat_delivered']}")
        print(f"  random disconnects {st['random_drops']}, connections closed by the broker "
              f"while running {closed_by_broker}")
        print(f"  broker RSS: start {start_rss / 1024:.1f} MB, first sample "
              f"{(warm_rss or 0) / 1024:.1f} MB, peak {peak / 1024:.1f} MB, with clients at the "
              f"end {in_use_rss / 1024:.1f} MB, after all left {end_rss / 1024:.1f} MB")
        if stats_line:
            print("  broker:", stats_line[-1].split("mqttwire-broker: ", 1)[-1])
        ok = lost == 0 and st["dup_q2"] == 0 and not self.failures
        print("soak:", "PASS" if ok else f"FAIL ({len(self.failures)} failures)")
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broker", required=True, help="mqttwire-broker (or mosquitto) executable")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--drain", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    random.seed(a.seed)
    return Soak(a).main()


if __name__ == "__main__":
    sys.exit(main())
