#!/usr/bin/python3
"""paho-mqtt (Debian's python3-paho-mqtt, Python's ssl module on OpenSSL) against the broker's TLS
engine over real sockets, through mqttwire_tls_test_server. Each test starts its own server on a
free 127.0.0.1 port, bounds every wait, and stops the server by closing its standard input.

    /usr/bin/python3 conformance/broker/tests/tls_paho.py \\
        --server build/dev/conformance/mqttwire_tls_test_server --certs CERTDIR

CERTDIR is made by make-certs.sh. Prints one line per test and ends with `N passed, M failed`.
"""

import argparse
import os
import queue
import ssl
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt

from script_support import run_tests

SERVER = None
CERTS = None
TIMEOUT = 10.0


def cert(name):
    return os.path.join(CERTS, name)


class Server:
    """mqttwire_tls_test_server; its output lines arrive on a queue."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([SERVER, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()
        first = self.next_line()
        if not first.startswith("listening "):
            self.stop()
            raise RuntimeError("server did not start: " + first)
        self.port = int(first.split()[1])

    def _reader(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout=TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line from the server within %.0f s" % timeout)
        if line is None:
            raise AssertionError("the server exited (status %s)" % self.proc.poll())
        return line

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=TIMEOUT + 25)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def tls_context(certfile=None, keyfile=None, max_version=None, ciphers=None):
    ctx = ssl.create_default_context(cafile=cert("ca.pem"))
    if certfile:
        ctx.load_cert_chain(cert(certfile), cert(keyfile))
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


class Client:
    """A paho client that records what happens, with bounded waits."""

    def __init__(self, protocol=mqtt.MQTTv311, context=None):
        self.c = mqtt.Client(client_id="tls-test", protocol=protocol)
        if context is not None:
            self.c.tls_set_context(context)
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.subscribed = threading.Event()
        self.messages = queue.Queue()
        self.rc = None
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda c, u, rc, *a: self.disconnected.set()
        self.c.on_subscribe = lambda c, u, mid, granted, *a: self.subscribed.set()
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.rc = rc
        self.connected.set()

    def start(self, port):
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()

    def stop(self):
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def round_trip(server, protocol, context):
    """Connect, subscribe, publish and receive the message back, the home-automation way."""
    client = Client(protocol, context)
    client.start(server.port)
    try:
        expect(client.connected.wait(TIMEOUT), "no CONNACK")
        expect(client.rc == 0, "CONNACK refused: %s" % client.rc)
        line = server.next_line()
        client.c.subscribe("salon/luz/cmd", qos=0)
        expect(client.subscribed.wait(TIMEOUT), "no SUBACK")
        client.c.publish("salon/luz/cmd", b"ON", qos=0)
        topic, payload = client.messages.get(timeout=TIMEOUT)
        expect((topic, payload) == ("salon/luz/cmd", b"ON"), "got %r %r" % (topic, payload))
    finally:
        client.stop()
    expect(server.next_line() == "closed: DISCONNECT", "no clean DISCONNECT")
    return line


def with_server(args, body):
    server = Server(*args)
    try:
        body(server)
    finally:
        server.stop()


def test_tls13_v311_rsa():
    def body(server):
        line = round_trip(server, mqtt.MQTTv311, tls_context())
        expect(line.startswith("connect version=4 protocol=TLSv1.3 "), line)
    with_server([cert("server-rsa-chain.pem"), cert("server-rsa.key")], body)


def test_tls13_v5_ecdsa():
    def body(server):
        line = round_trip(server, mqtt.MQTTv5, tls_context())
        expect(line.startswith("connect version=5 protocol=TLSv1.3 "), line)
    with_server([cert("server-ec-chain.pem"), cert("server-ec.key")], body)


def test_tls12_ecdhe_rsa_aes128_gcm():
    def body(server):
        ctx = tls_context(max_version=ssl.TLSVersion.TLSv1_2,
                          ciphers="ECDHE-RSA-AES128-GCM-SHA256")
        line = round_trip(server, mqtt.MQTTv311, ctx)
        expect("protocol=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256" in line, line)
    with_server([cert("server-rsa-chain.pem"), cert("server-rsa.key")], body)


def test_client_certificate_identity():
    def body(server):
        line = round_trip(server, mqtt.MQTTv5, tls_context("client.pem", "client.key"))
        expect(" cn=sensor-1 subject=CN=sensor-1,OU=devices,O=Home,C=DE" in line, line)
    with_server([cert("server-rsa-chain.pem"), cert("server-rsa.key"), "--cafile", cert("ca.pem"),
                 "--require-certificate"], body)


def test_no_client_certificate_when_required():
    def body(server):
        client = Client(mqtt.MQTTv311, tls_context())
        try:
            client.start(server.port)
        except (ssl.SSLError, OSError):
            pass  # TLS 1.2 would fail here; with TLS 1.3 the alert comes after the handshake
        line = server.next_line()
        expect(line == "failed no_client_certificate: client sent no certificate (this listener "
                       "has require_certificate true)", line)
        expect(not client.connected.wait(1.0) or client.rc != 0, "the client was accepted")
        client.c.loop_stop()
    with_server([cert("server-rsa-chain.pem"), cert("server-rsa.key"), "--cafile", cert("ca.pem"),
                 "--require-certificate"], body)


def test_revoked_client_certificate():
    def body(server):
        client = Client(mqtt.MQTTv311, tls_context("client-revoked.pem", "client-revoked.key"))
        try:
            client.start(server.port)
        except (ssl.SSLError, OSError):
            pass
        line = server.next_line()
        expect(line.startswith("failed certificate_revoked: client certificate rejected: "
                               "certificate revoked"), line)
        client.c.loop_stop()
    with_server([cert("server-rsa-chain.pem"), cert("server-rsa.key"), "--cafile", cert("ca.pem"),
                 "--crlfile", cert("crl.pem"), "--require-certificate"], body)


def test_plain_mqtt_on_the_tls_port():
    def body(server):
        client = Client(mqtt.MQTTv311)  # no TLS
        client.start(server.port)
        line = server.next_line()
        expect(line.startswith("failed plain_mqtt: plain MQTT on a TLS port"), line)
        expect(not client.connected.wait(1.0), "a plain client got a CONNACK")
        client.c.loop_stop()
    with_server([cert("server-ec-chain.pem"), cert("server-ec.key")], body)


def test_minimum_version():
    def body(server):
        client = Client(mqtt.MQTTv311, tls_context(max_version=ssl.TLSVersion.TLSv1_2))
        refused = False
        try:
            client.start(server.port)
        except (ssl.SSLError, OSError):
            refused = True
        line = server.next_line()
        expect(line == "failed protocol_version: protocol version too low: the client offers at "
                       "most TLS 1.2, this listener requires TLS 1.3 (tls_version)", line)
        expect(refused, "paho's handshake succeeded")
        client.c.loop_stop()
    with_server([cert("server-ec-chain.pem"), cert("server-ec.key"), "--tls-version", "tlsv1.3"],
                body)


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def quiet_thread_errors(args):
    """paho's network thread raises the TLS alerts the refusal tests provoke; one line each."""
    print("  (paho thread: %s: %s)" % (args.exc_type.__name__, args.exc_value), flush=True)


def main():
    global SERVER, CERTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("-k", default="", help="run only tests whose name contains this")
    args = parser.parse_args()
    SERVER, CERTS = args.server, os.path.abspath(args.certs)
    threading.excepthook = quiet_thread_errors
    return run_tests(TESTS, args.k)


if __name__ == "__main__":
    sys.exit(main())
