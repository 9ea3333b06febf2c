#!/usr/bin/python3
"""mqttwire-broker start-up with TLS listeners: a missing, unreadable or inconsistent certificate,
key, CA file or CRL stops the broker with a line naming the listener, the file and the reason,
and exit status 2; a listener is never served as plain MQTT when its configuration asks for TLS;
an expired server certificate is a warning.

    /usr/bin/python3 conformance/broker/tests/tls_startup.py \\
        --broker build/dev/conformance/broker/mqttwire-broker --certs CERTDIR

CERTDIR is made by make-certs.sh. Prints one line per test and ends with `N passed, M failed`.
"""

import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

from script_support import free_port, run_tests

BROKER = None
CERTS = None


def cert(name):
    return os.path.join(CERTS, name)


def run_broker(lines, timeout=10):
    """Starts the broker with a configuration; returns (exit status, stderr). A broker that is
    still running after `timeout` seconds is killed and reported as status None."""
    with tempfile.TemporaryDirectory(prefix="mqttwire-tls-startup-") as d:
        path = os.path.join(d, "broker.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        proc = subprocess.Popen([BROKER, "-c", path], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            return proc.returncode, err
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return None, err


def tls_listener(port, certfile="server-rsa-chain.pem", keyfile="server-rsa.key", extra=()):
    return ["listener %d 127.0.0.1" % port, "certfile " + certfile, "keyfile " + keyfile,
            *extra]


def expect_refused(lines, needle):
    status, err = run_broker(lines)
    if status != 2:
        raise AssertionError("exit status %r, stderr: %s" % (status, err))
    if needle not in err:
        raise AssertionError("stderr does not contain %r:\n%s" % (needle, err))
    return err


def test_missing_certfile():
    port = free_port()
    path = cert("missing.pem")
    expect_refused(tls_listener(port, path, cert("server-rsa.key")),
                   "mqttwire-broker: listener %d: certfile '%s': No such file or directory"
                   % (port, path))


def test_unreadable_keyfile():
    port = free_port()
    # A directory cannot be read as a file (a mode-000 file would be readable for root).
    expect_refused(tls_listener(port, cert("server-rsa-chain.pem"), CERTS),
                   "listener %d: keyfile '%s': Is a directory" % (port, CERTS))


def test_key_does_not_match_certificate():
    port = free_port()
    expect_refused(tls_listener(port, cert("server-rsa-chain.pem"), cert("server-ec.key")),
                   "listener %d: keyfile '%s': does not match the certificate in certfile '%s'"
                   % (port, cert("server-ec.key"), cert("server-rsa-chain.pem")))


def test_missing_cafile_and_bad_crlfile():
    port = free_port()
    expect_refused(tls_listener(port, cert("server-rsa-chain.pem"), cert("server-rsa.key"),
                                ["require_certificate true", "cafile " + cert("absent-ca.pem")]),
                   "listener %d: cafile '%s': No such file or directory"
                   % (port, cert("absent-ca.pem")))
    expect_refused(tls_listener(port, cert("server-rsa-chain.pem"), cert("server-rsa.key"),
                                ["require_certificate true", "cafile " + cert("ca.pem"),
                                 "crlfile " + cert("ca.pem")]),
                   "listener %d: crlfile '%s': no PEM CRL found" % (port, cert("ca.pem")))


def test_relative_paths_are_read_from_the_configuration_directory():
    port = free_port()
    # Relative to the (temporary) configuration directory, so this file does not exist there.
    err = expect_refused(tls_listener(port, "server-rsa-chain.pem", "server-rsa.key"),
                         "No such file or directory")
    if "/server-rsa-chain.pem'" not in err or "mqttwire-tls-startup-" not in err:
        raise AssertionError(err)


def start_broker(lines):
    """Starts the broker and reads its log until it listens; returns (process, log so far,
    temporary directory). The caller stops the process and removes the directory."""
    d = tempfile.mkdtemp(prefix="mqttwire-tls-startup-")
    path = os.path.join(d, "broker.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    proc = subprocess.Popen([BROKER, "-c", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log = ""
    while "listening on port" not in log:
        line = proc.stderr.readline()
        if not line:
            proc.wait(timeout=10)
            shutil.rmtree(d)
            raise AssertionError("the broker exited (status %r): %s" % (proc.returncode, log))
        log += line
    return proc, log, d


def stop_broker(proc, d):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(d)


def test_valid_tls_listener_is_never_served_as_plain_mqtt():
    port = free_port()
    proc, log, d = start_broker(tls_listener(port, cert("server-rsa-chain.pem"),
                                             cert("server-rsa.key")) + ["allow_anonymous true"])
    try:
        if "listening on port %d (mqtt+tls)" % port not in log:
            raise AssertionError(log)
        # A plain MQTT CONNECT gets no CONNACK: the connection is closed.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 1]) + b"x")
            try:
                answer = s.recv(64)
            except ConnectionResetError:
                answer = b""
            if answer.startswith(bytes([0x20])):
                raise AssertionError("plain MQTT was answered with a CONNACK on a TLS port")
        # TLS works on the same port.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cert("ca.pem"))
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="localhost") as t:
            t.sendall(bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 1]) + b"x")
            if t.recv(4) != bytes([0x20, 2, 0, 0]):
                raise AssertionError("no CONNACK over TLS")
    finally:
        stop_broker(proc, d)


def test_expired_certificate_is_a_warning():
    port = free_port()
    proc, log, d = start_broker(tls_listener(port, cert("server-expired-chain.pem"),
                                             cert("server-expired.key")))
    stop_broker(proc, d)
    if "warning: listener %d: certfile '%s': the certificate expired on" % (
            port, cert("server-expired-chain.pem")) not in log:
        raise AssertionError(log)


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    global BROKER, CERTS
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--certs", required=True)
    args = parser.parse_args()
    BROKER, CERTS = args.broker, os.path.abspath(args.certs)
    return run_tests(TESTS)


if __name__ == "__main__":
    sys.exit(main())
