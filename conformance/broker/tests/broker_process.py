"""What the process-level broker tests share: free ports, bounded waits, a broker process
stopped by its PID, and the runner that prints one line per test."""

import os
import signal
import socket
import subprocess
import time
import traceback


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


class BrokerProcess:
    """`args` started with its output in `workdir`/broker.log; ready once 127.0.0.1:`port`
    accepts connections (RuntimeError with the log otherwise)."""

    def __init__(self, args, port, workdir, timeout):
        self.args, self.port, self.dir, self.timeout = args, port, workdir, timeout
        self.log = open(os.path.join(workdir, "broker.log"), "w+")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(self.listening, self.timeout):
            self.stop()
            raise RuntimeError("%s did not start: %s" % (self.args[0], self.output()))

    def listening(self):
        if self.proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)  # by PID
            try:
                self.proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_tests(namespace, only=""):
    """Runs every test_* function of `namespace` whose name contains `only`; 0 when all pass."""
    tests = [(n, f) for n, f in sorted(namespace.items()) if n.startswith("test_") and only in n]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
