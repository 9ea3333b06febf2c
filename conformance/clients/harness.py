"""What a scenario sees: the registry (`@scenario`), the context object with client factories
(raw sockets, paho-mqtt, MQTT.js, mosquitto_pub/sub), unique ids and bounded waits."""

import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time

import mqttcodec as m
import transport

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = []


class Skip(Exception):
    pass


def scenario(name, cites, area, timeout=20.0, expected_to_fail_on=(), needs=(), why=""):
    """Register a scenario. cites: the statements it exercises. expected_to_fail_on: broker
    labels that are known to violate the spec here (why: the spec reference and the reason)."""
    def wrap(fn):
        SCENARIOS.append(dict(name=name, cites=cites.split() if isinstance(cites, str) else cites,
                              area=area, timeout=timeout, fn=fn,
                              expected_to_fail_on=set(expected_to_fail_on), needs=set(needs),
                              why=why))
        return fn
    return wrap


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Context:
    def __init__(self, host, port, auth_port, broker, run_id, index, name):
        self.host, self.port, self.auth_port, self.broker = host, port, auth_port, broker
        self.prefix = f"cf{run_id}{index:03d}"
        self.topic_root = f"cf/{run_id}/{name}"
        self.n = 0
        self.cleanup = []

    # unique names ------------------------------------------------------------------------
    def cid(self, tag="c"):
        self.n += 1
        return f"{self.prefix}{tag}{self.n}"

    def topic(self, rest="t"):
        return f"{self.topic_root}/{rest}"

    # raw clients -------------------------------------------------------------------------
    def raw(self, version=4, port=None, timeout=3.0):
        c = m.RawClient(self.host, port or self.port, version, timeout)
        self.cleanup.append(c.close)
        return c

    def connect(self, version=4, cid=None, clean=True, keepalive=60, will=None, username=None,
                password=None, properties=None, port=None, expect_reason=0):
        """Open a raw connection, send CONNECT and check the CONNACK; returns (client, connack)."""
        c = self.raw(version, port)
        c.send(m.connect(cid or self.cid(), version, clean, keepalive, will, username, password,
                         properties))
        ack = c.expect(m.CONNACK)
        check(ack.reason == expect_reason,
              f"CONNACK reason 0x{ack.reason:02x}, expected 0x{expect_reason:02x}")
        return c, ack

    def subscribe(self, c, filters, pid=1, properties=None):
        """filters: [(filter, options)]; waits for the SUBACK and returns its codes."""
        c.send(m.subscribe(pid, filters, c.version, properties))
        ack = c.expect(m.SUBACK, skip=(m.PUBLISH,))
        check(ack.pid == pid, f"SUBACK packet id {ack.pid}, expected {pid}")
        return ack

    def publish_q1(self, c, topic, payload, pid=1, retain=False, properties=None):
        c.send(m.publish(topic, payload, 1, retain, pid=pid, version=c.version,
                         properties=properties))
        a = c.expect(m.PUBACK, skip=(m.PUBLISH,))
        check(a.pid == pid, "PUBACK for another packet id")
        return a

    def publish_q2(self, c, topic, payload, pid=1, retain=False, properties=None):
        c.send(m.publish(topic, payload, 2, retain, pid=pid, version=c.version,
                         properties=properties))
        rec = c.expect(m.PUBREC, skip=(m.PUBLISH,))
        check(rec.pid == pid, "PUBREC for another packet id")
        c.send(m.ack(m.PUBREL, pid, c.version))
        comp = c.expect(m.PUBCOMP, skip=(m.PUBLISH,))
        check(comp.pid == pid, "PUBCOMP for another packet id")
        return rec, comp

    def need_auth(self):
        if not self.auth_port:
            raise Skip("no --auth-port (password/ACL listener) given")
        return self.auth_port

    # paho-mqtt ---------------------------------------------------------------------------
    def paho(self, version=4, cid=None, clean=True, port=None, **kw):
        c = Paho(self, version, cid or self.cid("p"), clean, port or self.port, **kw)
        self.cleanup.append(c.stop)
        return c

    # transports (runner --transport) ------------------------------------------------------
    def only_tcp(self, what):
        """Skip: what (a client or helper) has no way to use the runner's transport."""
        if transport.kind() != "tcp":
            raise Skip(f"{what} cannot connect over {transport.kind()}")

    def mosquitto_transport_args(self, what):
        """mosquitto_pub/sub 2.0 speak TCP and TLS, not WebSocket."""
        if transport.kind() == "tls":
            cert, key = transport.client_certificate()
            mine = ["--cert", cert, "--key", key] if cert else []
            return ["--cafile", transport.cafile(), *mine]
        self.only_tcp(what)
        return []

    # mosquitto command-line clients -------------------------------------------------------
    def mosquitto_pub(self, *args, port=None, timeout=10):
        return run([shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub", "-h", self.host,
                    "-p", str(port or self.port), "-i", self.cid("mp"),
                    *self.mosquitto_transport_args("mosquitto_pub"), *args], timeout)

    def mosquitto_sub_start(self, *args, port=None):
        """Start mosquitto_sub in the background; returns the process (stdout piped)."""
        p = subprocess.Popen([shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub",
                              "-h", self.host, "-p", str(port or self.port), "-i",
                              self.cid("ms"), *self.mosquitto_transport_args("mosquitto_sub"),
                              *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.cleanup.append(stop)
        return p

    # mqttwire-pub / mqttwire-sub (conformance/tools/) ---------------------------------------
    def tool(self, name):
        """Path of mqttwire-pub or mqttwire-sub (runner --tools-dir); Skip when not built."""
        self.only_tcp(name)
        path = os.path.join(getattr(self, "tools_dir", "") or "", name)
        if not os.access(path, os.X_OK):
            raise Skip(f"{name} not found (runner --tools-dir; ci/conformance.sh builds it)")
        return path

    def tool_pub(self, *args, port=None, stdin=None, timeout=10):
        argv = [self.tool("mqttwire-pub"), "-h", self.host, "-p", str(port or self.port), *args]
        try:
            return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"mqttwire-pub did not finish within {timeout} s")

    def tool_start(self, name, *args, port=None, stdin=False):
        """Start mqttwire-pub or mqttwire-sub in the background (stdout piped)."""
        p = subprocess.Popen([self.tool(name), "-h", self.host, "-p", str(port or self.port),
                              *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, text=True)

        def stop():
            if p.poll() is None:
                p.kill()
                p.wait()
        self.cleanup.append(stop)
        return p

    def proxy(self, port=None):
        """A cutting proxy in front of the broker (clients/proxy.py)."""
        self.only_tcp("the cutting proxy (it forwards plain TCP)")
        import proxy
        px = proxy.CuttingProxy(self.host, port or self.port)
        self.cleanup.append(px.stop)
        return px

    # MQTT.js -----------------------------------------------------------------------------
    def mqttjs(self, steps, version=4, timeout=15):
        """Run conformance/clients/node/steps.js with a list of steps; returns its JSON events."""
        node_dir = os.path.join(HERE, "node")
        if not shutil.which("node") or not os.path.isdir(os.path.join(node_dir, "node_modules",
                                                                        "mqtt")):
            raise Skip("node or node_modules/mqtt missing (run npm ci in conformance/clients/node)")
        scheme = dict(tcp="mqtt", tls="mqtts", ws="ws", wss="wss")[transport.kind()]
        cert, key = transport.client_certificate()
        prog = dict(url=f"{scheme}://{self.host}:{self.port}", version=version, steps=steps,
                    ca=transport.cafile(), cert=cert, key=key)
        out = run(["node", os.path.join(node_dir, "steps.js"), json.dumps(prog)], timeout)
        events = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
        errors = [e for e in events if e.get("event") == "error"]
        check(out.returncode == 0 and not errors,
              f"MQTT.js exited {out.returncode}: {errors or out.stderr[-400:]}")
        return events

    def close_all(self):
        for f in reversed(self.cleanup):
            try:
                f()
            except Exception:
                pass


def run(argv, timeout):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{os.path.basename(argv[0])} did not finish within {timeout} s")


class Paho:
    """paho-mqtt 1.6 client on its own network thread, every wait bounded."""

    def __init__(self, ctx, version, cid, clean, port, username=None, password=None,
                 will=None, keepalive=60, properties=None, connect=True, userdata=None):
        import paho.mqtt.client as mqtt
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        self.mqtt, self.Properties, self.PacketTypes = mqtt, Properties, PacketTypes
        proto = {3: mqtt.MQTTv31, 4: mqtt.MQTTv311, 5: mqtt.MQTTv5}[version]
        self.version = version
        kind = transport.kind()
        wire = "websockets" if kind in ("ws", "wss") else "tcp"
        if version == 5:
            self.c = mqtt.Client(cid, protocol=proto, transport=wire)
        else:
            self.c = mqtt.Client(cid, clean_session=clean, protocol=proto, transport=wire)
        if kind in ("tls", "wss"):
            cert, key = transport.client_certificate()
            self.c.tls_set(ca_certs=transport.cafile(), certfile=cert, keyfile=key)
        self.clean = clean
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.subacks = queue.Queue()
        self.disconnects = queue.Queue()
        self.c.on_message = lambda c, u, msg: self.messages.put(msg)
        if version == 5:
            self.c.on_connect = lambda c, u, f, rc, p=None: self.connacks.put((f, rc, p))
            self.c.on_subscribe = lambda c, u, mid, codes, p=None: self.subacks.put(codes)
            self.c.on_disconnect = lambda c, u, rc, p=None: self.disconnects.put(rc)
        else:
            self.c.on_connect = lambda c, u, f, rc: self.connacks.put((f, rc, None))
            self.c.on_subscribe = lambda c, u, mid, codes: self.subacks.put(codes)
            self.c.on_disconnect = lambda c, u, rc: self.disconnects.put(rc)
        if username is not None:
            self.c.username_pw_set(username, password)
        if will:
            self.c.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                            will.get("retain", False), properties=will.get("properties"))
        self.port, self.host, self.keepalive, self.props = port, ctx.host, keepalive, properties
        self.started = False
        if connect:
            self.start()

    def props_of(self, kind, **values):
        p = self.Properties(getattr(self.PacketTypes, kind))
        for k, v in values.items():
            setattr(p, k, v)
        return p

    def start(self, expect_rc=0):
        if self.version == 5:
            self.c.connect(self.host, self.port, self.keepalive, clean_start=self.clean,
                           properties=self.props)
        else:
            self.c.connect(self.host, self.port, self.keepalive)
        self.c.loop_start()
        self.started = True
        try:
            flags, rc, props = self.connacks.get(timeout=5)
        except queue.Empty:
            raise AssertionError("paho: no CONNACK within 5 s")
        rcv = rc.value if hasattr(rc, "value") else rc
        check(rcv == expect_rc, f"paho: CONNACK code {rc}, expected {expect_rc}")
        self.session_present = flags.get("session present")
        self.connack_props = props
        return flags, rc, props

    def subscribe(self, topic, qos=0, options=None, properties=None):
        if self.version == 5:
            opts = options or self.mqtt.SubscribeOptions(qos=qos)
            self.c.subscribe(topic, options=opts, properties=properties)
        else:
            self.c.subscribe(topic, qos)
        try:
            codes = self.subacks.get(timeout=5)
        except queue.Empty:
            raise AssertionError(f"paho: no SUBACK for {topic}")
        return [getattr(x, "value", x) for x in codes]

    def publish(self, topic, payload, qos=0, retain=False, properties=None, wait=True):
        info = self.c.publish(topic, payload, qos, retain, properties=properties)
        if wait and qos:
            info.wait_for_publish(timeout=5)
            check(info.is_published(), f"paho: QoS {qos} publish to {topic} not completed")
        return info

    def get(self, timeout=3.0):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("paho: no message within the time bound")

    def nothing(self, duration=0.7):
        try:
            msg = self.messages.get(timeout=duration)
        except queue.Empty:
            return
        raise AssertionError(f"paho: unexpected message on {msg.topic}: {msg.payload!r}")

    def disconnect(self):
        self.c.disconnect()
        try:
            self.disconnects.get(timeout=3)
        except queue.Empty:
            pass
        self.stop()

    def cut(self):
        """Lose the connection as a network failure would: no DISCONNECT, no WebSocket Close.
        A shutdown, not a close, so paho's network thread sees the end instead of a dead file
        descriptor."""
        s = self.c.socket()
        raw = getattr(s, "_socket", s)  # paho's WebSocket wrapper holds the TCP or TLS socket
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def stop(self):
        if self.started:
            self.c.loop_stop()
            self.started = False
        try:
            self.c.socket() and self.c.socket().close()
        except Exception:
            pass
