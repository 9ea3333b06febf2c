"""Raw byte-exchange scenarios as data (conformance/scenarios/*.scn).

    scenario NAME
      cite MQTT5-3.1.2-3 ...            # statements exercised (several lines allowed)
      area malformed
      version 5                         # protocol version used to decode responses
      expected-to-fail-on mosquitto REASON WITH SPEC REFERENCE
      connect [clean|persistent] [keepalive N]   # CONNECT with a unique client id, CONNACK 0x00
      send vector NAME                  # the bytes of a tests/vectors/*.vec vector
      send hex 30 05 ...                # consecutive `send` lines are concatenated, sent at once
      expect CONNACK|SUBACK|... [reason HEX] [codes HEX...]   # the next packet
      expect closed [HEX|HEX...]        # the server closes; a DISCONNECT/CONNACK before it, if
                                        # any, must carry one of these reason codes (>= 0x80)
      expect open                       # a PINGREQ is still answered
      expect nothing MS                 # no packet within MS milliseconds
      sleep MS
    end
"""

import re
import time

import harness
import mqttcodec as m

TYPES = {v: k for k, v in m.NAMES.items()}


def load_vectors(directory):
    import glob
    import os
    vectors = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.vec"))):
        cur = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                word, _, rest = line.partition(" ")
                if word == "vector":
                    cur = dict(name=rest.strip(), hex=bytearray(), cite=[], expect="ok",
                               version=None, sender=None)
                elif cur is None:
                    continue
                elif word == "hex":
                    cur["hex"] += bytes.fromhex(rest)
                elif word == "cite":
                    cur["cite"] += rest.split()
                elif word in ("expect", "version", "sender"):
                    cur[word] = rest.strip()
                elif word == "end":
                    vectors[cur["name"]] = cur
                    cur = None
    return vectors


def load_file(path, vectors):
    cur = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip() if not line.strip().startswith(
                "expected-to-fail-on") else line.strip()
            if not line:
                continue
            word, _, rest = line.partition(" ")
            if word == "scenario":
                cur = dict(name=rest.strip(), cites=[], area="raw", version=4, steps=[],
                           xfail=set(), why="", timeout=15.0)
            elif word == "end":
                register(cur, path)
                cur = None
            elif cur is None:
                raise SystemExit(f"{path}:{lineno}: `{word}` outside a scenario")
            elif word == "cite":
                cur["cites"] += rest.split()
            elif word == "area":
                cur["area"] = rest.strip()
            elif word == "version":
                cur["version"] = {"3.1": 3, "3.1.1": 4, "5": 5, "5.0": 5}[rest.strip()]
            elif word == "expected-to-fail-on":
                broker, _, why = rest.partition(" ")
                cur["xfail"].add(broker)
                cur["why"] = why.strip()
            elif word == "send":
                kind, _, arg = rest.partition(" ")
                if kind == "vector":
                    v = vectors.get(arg.strip())
                    if v is None:
                        raise SystemExit(f"{path}:{lineno}: no vector {arg.strip()}")
                    data = bytes(v["hex"])
                elif kind == "hex":
                    data = bytes.fromhex(arg)
                else:
                    raise SystemExit(f"{path}:{lineno}: send vector|hex")
                if cur["steps"] and cur["steps"][-1][0] == "send":
                    cur["steps"][-1] = ("send", cur["steps"][-1][1] + data)
                else:
                    cur["steps"].append(("send", data))
            elif word in ("connect", "expect", "sleep"):
                cur["steps"].append((word, rest.split()))
            else:
                raise SystemExit(f"{path}:{lineno}: unknown directive `{word}`")


def register(sc, path):
    steps, version = sc["steps"], sc["version"]

    def fn(ctx):
        c = ctx.raw(version)
        for op, arg in steps:
            if op == "send":
                c.send(arg)
            elif op == "sleep":
                time.sleep(int(arg[0]) / 1000)
            elif op == "connect":
                clean = "persistent" not in arg
                ka = int(arg[arg.index("keepalive") + 1]) if "keepalive" in arg else 60
                c.send(m.connect(ctx.cid(), version, clean, ka))
                ack = c.expect(m.CONNACK)
                harness.check(ack.reason == 0, f"CONNACK 0x{ack.reason:02x}")
            elif op == "expect":
                expect(c, arg)

    harness.scenario(sc["name"], sc["cites"], sc["area"], sc["timeout"],
                     expected_to_fail_on=sc["xfail"], why=sc["why"])(fn)


def codes(words):
    out = set()
    for w in words:
        out |= {int(x, 16) for x in w.split("|")}
    return out


def expect(c, arg):
    what = arg[0]
    if what == "closed":
        allowed = codes(arg[1:])
        while True:
            try:
                p = c.recv(3.0)
            except m.Closed:
                return
            if p is None:
                raise AssertionError("the server did not close the connection within 3 s")
            if p.type in (m.DISCONNECT, m.CONNACK):
                harness.check(p.reason >= 0x80 or (p.type == m.CONNACK and c.version < 5
                                                    and p.reason != 0),
                              f"{p.name} with reason 0x{p.reason:02x} before closing")
                harness.check(not allowed or p.reason in allowed,
                              f"{p.name} reason 0x{p.reason:02x}, expected one of "
                              f"{sorted(hex(x) for x in allowed)}")
                continue
            raise AssertionError(f"expected the connection to close, got {p!r}")
    elif what == "open":
        harness.check(c.is_open(), "the server closed the connection")
    elif what == "nothing":
        c.expect_nothing(int(arg[1]) / 1000)
    else:
        kind = TYPES[what.upper()]
        p = c.expect(kind)
        i = 1
        while i < len(arg):
            if arg[i] == "reason":
                want = codes([arg[i + 1]])
                harness.check(p.reason in want, f"{p.name} reason 0x{p.reason:02x}, expected "
                              f"{'|'.join(hex(x) for x in sorted(want))}")
                i += 2
            elif arg[i] == "codes":
                got = p.codes
                want = arg[i + 1:]
                harness.check(len(got) == len(want) and all(
                    g in codes([w]) for g, w in zip(got, want)),
                    f"{p.name} codes {[hex(g) for g in got]}, expected {want}")
                i = len(arg)
            elif arg[i] == "pid":
                harness.check(p.pid == int(arg[i + 1]), f"packet id {p.pid}")
                i += 2
            else:
                raise AssertionError(f"bad expect argument {arg[i]}")
