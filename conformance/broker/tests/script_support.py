"""What the broker's Python test scripts share: a free loopback port and the runner that prints
one line per test and ends with `N passed, M failed` (the line ci/test.sh and ctest read)."""

import socket
import time
import traceback


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_tests(tests, name_filter=""):
    """Runs each test whose name contains `name_filter`; returns the exit status (1 when one
    failed or none ran)."""
    passed = failed = 0
    for test in tests:
        if name_filter not in test.__name__:
            continue
        start = time.monotonic()
        try:
            test()
            passed += 1
            print("PASS %s (%.1f s)" % (test.__name__, time.monotonic() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % test.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0
