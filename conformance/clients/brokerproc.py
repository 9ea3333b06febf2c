"""Start mqttwire-broker or mosquitto with a generated configuration (plain, TLS, WebSocket and
WSS listeners on free loopback ports), wait until every listener accepts, and stop it by PID.

    with BrokerProcess("mosquitto", "/usr/sbin/mosquitto",
                       [Listener("ws"), Listener("wss", tls=certs)]) as b:
        port = b.port("ws")
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

TRANSPORTS = ("tcp", "tls", "ws", "wss")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerDidNotStart(RuntimeError):
    pass


class Listener:
    """One listener: transport is tcp, tls, ws or wss; tls holds certfile, keyfile (and
    optionally cafile, require_certificate) for tls and wss."""

    def __init__(self, transport, tls=None, port=None):
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport}")
        if transport in ("tls", "wss") and not tls:
            raise ValueError(f"{transport} needs certificates")
        self.transport, self.tls, self.port = transport, tls, port or free_port()

    def config(self):
        lines = [f"listener {self.port} 127.0.0.1"]
        if self.transport in ("ws", "wss"):
            lines.append("protocol websockets")
        if self.transport in ("tls", "wss"):
            for key in ("certfile", "keyfile", "cafile"):
                if self.tls.get(key):
                    lines.append(f"{key} {self.tls[key]}")
            if self.tls.get("require_certificate"):
                lines.append("require_certificate true")
        return lines


def config_text(kind, listeners, extra=()):
    lines = []
    for listener in listeners:
        lines += listener.config()
    if kind == "mosquitto" and all(l.transport in ("ws", "wss") for l in listeners):
        # mosquitto 2.0.11 exits with "Unable to start any listening sockets" when every
        # listener is a WebSocket one; a plain listener beside them lets it start.
        lines.append(f"listener {free_port()} 127.0.0.1")
    lines += ["allow_anonymous true", *extra]
    if kind == "mosquitto":
        lines += ["persistence false", "log_dest stdout"]
    return "\n".join(lines) + "\n"


class BrokerProcess:
    def __init__(self, kind, binary, listeners, extra=(), start_timeout=10.0):
        self.kind, self.binary, self.listeners = kind, binary, list(listeners)
        self.dir = tempfile.mkdtemp(prefix=f"mqttwire-{kind}-")
        # mosquitto started as root switches to the user mosquitto, which must read the files.
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "broker.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config_text(kind, self.listeners, extra))
        self.log_path = os.path.join(self.dir, "broker.log")
        self.log = open(self.log_path, "w+", encoding="utf-8", errors="replace")
        self.proc = subprocess.Popen([binary, "-c", self.conf, "-v"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        pending = [l.port for l in self.listeners]
        while pending and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2).close()
                pending.pop(0)
                continue
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        if pending:
            status = self.proc.poll()
            self.stop()
            log = self.output()
            shutil.rmtree(self.dir, ignore_errors=True)
            why = f"exited with status {status}" if status is not None else \
                f"port {pending[0]} not accepting after {start_timeout:.0f} s"
            raise BrokerDidNotStart(f"{kind} ({binary}) {why}; configuration:\n"
                                    f"{config_text(kind, self.listeners, extra)}log:\n"
                                    f"{log[-2000:]}")

    def port(self, transport):
        for listener in self.listeners:
            if listener.transport == transport:
                return listener.port
        raise KeyError(transport)

    def output(self):
        try:
            if not self.log.closed:
                self.log.flush()
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False
