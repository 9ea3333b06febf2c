"""Independent clients: paho-mqtt (3.1, 3.1.1, 5.0), mosquitto_pub/mosquitto_sub, MQTT.js
(3.1.1, 5.0); and authentication / ACLs on the password + ACL listener (--auth-port), whose
users and rules ci/conformance.sh writes: alice/alice-pw owns cfacl/+/alice/# and reads
cfacl/+/news/#, bob/bob-pw writes cfacl/+/news/#, everyone owns cfacl/+/users/<user>/#."""

import time

import mqttcodec as m
from harness import check, scenario

P = m.PUBLISH


# ---------------------------------------------------------------------------------- paho-mqtt

@scenario("paho-cross-version-pubsub", "MQTT-3.3.5-1 MQTT-4.5.0-1 MQTT5-4.5.0-1 MQTT-3.8.4-6",
          "clients")
def _(ctx):
    t = ctx.topic()
    subs = {v: ctx.paho(v) for v in (3, 4, 5)}
    for v, c in subs.items():
        check(c.subscribe(t, 1) == [1], f"paho v{v} SUBACK")
    for v in (3, 4, 5):
        ctx.paho(v).publish(t, f"from-{v}", qos=1)
        for sv, c in subs.items():
            msg = c.get()
            check(msg.payload == f"from-{v}".encode() and msg.qos == 1,
                  f"v{v} -> v{sv}: {msg.payload!r} QoS {msg.qos}")


@scenario("paho-home-automation-on-connect", "MQTT-3.3.1-5 MQTT-3.3.1-8 MQTT-3.1.2-8",
          "clients")
def _(ctx):
    # the README's home-automation pattern: subscribe cmd / publish stat in on_connect
    cmd, stat = ctx.topic("salon/luz/cmd"), ctx.topic("salon/luz/stat")
    dev = ctx.paho(4, connect=False, will=dict(topic=stat, payload="OFFLINE", retain=True))
    dev.c.on_connect = lambda c, u, f, rc: (c.subscribe(cmd, 1),
                                            c.publish(stat, "OFF", 1, retain=True),
                                            dev.connacks.put((f, rc, None)))

    def on_message(c, u, msg):
        c.publish(stat, msg.payload, 1, retain=True)
    dev.c.on_message = on_message
    dev.start()
    ui = ctx.paho(4)
    ui.subscribe(stat, 1)
    check(ui.get().payload == b"OFF", "retained state on subscribe")
    time.sleep(0.2)
    ui.publish(cmd, "ON", qos=1)
    check(ui.get().payload == b"ON", "state after command")
    dev.cut()  # abnormal loss: the retained will replaces the state
    check(ui.get(5).payload == b"OFFLINE", "will")
    ui.publish(stat, b"", qos=1, retain=True)


@scenario("paho-v5-request-response-user-properties",
          "MQTT5-3.3.2-15 MQTT5-3.3.2-16 MQTT5-3.3.2-17", "request-response")
def _(ctx):
    req_t = ctx.topic("req")
    server = ctx.paho(5)
    server.subscribe(req_t, 1)
    client = ctx.paho(5)
    rt = ctx.topic("reply")
    client.subscribe(rt, 1)
    props = client.props_of("PUBLISH", ResponseTopic=rt, CorrelationData=b"id-42",
                            UserProperty=[("room", "salon"), ("room", "cocina")])
    client.publish(req_t, "get", qos=1, properties=props)
    req = server.get()
    check(req.properties.ResponseTopic == rt, "Response Topic")
    check(req.properties.CorrelationData == b"id-42", "Correlation Data")
    check(req.properties.UserProperty == [("room", "salon"), ("room", "cocina")],
          f"User Properties {req.properties.UserProperty}")
    server.publish(rt, "value", qos=1, properties=server.props_of(
        "PUBLISH", CorrelationData=req.properties.CorrelationData))
    resp = client.get()
    check(resp.payload == b"value" and resp.properties.CorrelationData == b"id-42", "response")


@scenario("paho-v5-persistent-session-qos2", "MQTT5-3.1.2-23 MQTT5-4.4.0-1 MQTT5-3.2.2-3",
          "session")
def _(ctx):
    import paho.mqtt.client as mqtt  # noqa: F401
    t, cid = ctx.topic(), ctx.cid("p")
    props = None
    a = ctx.paho(5, cid=cid, clean=False, connect=False)
    a.props = a.props_of("CONNECT", SessionExpiryInterval=60)
    a.start()
    a.subscribe(t, 2)
    a.disconnect()
    pub = ctx.paho(5)
    for i in range(3):
        pub.publish(t, f"m{i}", qos=2)
    b = ctx.paho(5, cid=cid, clean=False, connect=False)
    b.props = b.props_of("CONNECT", SessionExpiryInterval=0)
    b.start()
    check(b.session_present, "session not present")
    got = [b.get().payload for _ in range(3)]
    check(got == [b"m0", b"m1", b"m2"], f"queued {got}")


# ---------------------------------------------------------------------------------- mosquitto clients

@scenario("mosquitto-clients-all-versions", "MQTT-3.3.1-6 MQTT-3.3.1-8 MQTT5-3.3.1-9 MQTT-3.1.4-4",
          "clients")
def _(ctx):
    for version in ("31", "311", "5"):
        t = ctx.topic(f"v{version}")
        r = ctx.mosquitto_pub("-V", version, "-t", t, "-m", f"ret-{version}", "-r", "-q", "1")
        check(r.returncode == 0, f"mosquitto_pub -V {version}: {r.stderr}")
        sub = ctx.mosquitto_sub_start("-V", version, "-t", t, "-C", "2", "-W", "8", "-v",
                                      "-q", "2")
        time.sleep(0.5)
        r = ctx.mosquitto_pub("-V", version, "-t", t, "-m", f"live-{version}", "-q", "2")
        check(r.returncode == 0, f"mosquitto_pub: {r.stderr}")
        try:
            out, err = sub.communicate(timeout=9)
        except Exception:
            raise AssertionError(f"mosquitto_sub -V {version} did not get 2 messages")
        check(out.split("\n")[:2] == [f"{t} ret-{version}", f"{t} live-{version}"],
              f"mosquitto_sub -V {version}: {out!r} {err!r}")
        ctx.mosquitto_pub("-V", version, "-t", t, "-n", "-r")


@scenario("mosquitto-clients-v5-properties", "MQTT5-3.3.2-17 MQTT5-3.3.2-20 MQTT5-3.3.2-4",
          "clients")
def _(ctx):
    t = ctx.topic()
    sub = ctx.mosquitto_sub_start("-V", "5", "-t", t, "-C", "1", "-W", "8", "-F",
                                  "%t|%p|%C|%P")
    time.sleep(0.5)
    r = ctx.mosquitto_pub("-V", "5", "-t", t, "-m", "22.5", "-D", "publish", "content-type",
                          "text/plain", "-D", "publish", "user-property", "unit", "C",
                          "-D", "publish", "payload-format-indicator", "1")
    check(r.returncode == 0, r.stderr)
    out, err = sub.communicate(timeout=9)
    check(out.strip() == f"{t}|22.5|text/plain|unit:C", f"mosquitto_sub: {out!r} {err!r}")


# ---------------------------------------------------------------------------------- MQTT.js

def mqttjs_pubsub(ctx, version):
    t = ctx.topic()
    ev = ctx.mqttjs([
        dict(do="connect", name="s", clientId=ctx.cid("js")),
        dict(do="subscribe", name="s", topic=t + "/#", qos=2),
        dict(do="connect", name="p", clientId=ctx.cid("js")),
        dict(do="publish", name="p", topic=t + "/a", payload="q0", qos=0),
        dict(do="publish", name="p", topic=t + "/a", payload="q1", qos=1),
        dict(do="publish", name="p", topic=t + "/b", payload="q2", qos=2),
        dict(do="wait", name="s", count=3, ms=4000),
    ], version=version)
    msgs = [(e["topic"], e["payload"], e["qos"]) for e in ev if e["event"] == "message"]
    check(msgs == [(t + "/a", "q0", 0), (t + "/a", "q1", 1), (t + "/b", "q2", 2)],
          f"MQTT.js v{version}: {msgs}")


@scenario("mqttjs-v311-qos-0-1-2", "MQTT-4.3.1-1 MQTT-4.3.2-1 MQTT-4.3.3-1 MQTT-4.6.0-6",
          "clients")
def _(ctx):
    mqttjs_pubsub(ctx, 4)


@scenario("mqttjs-v5-qos-0-1-2", "MQTT5-4.3.1-1 MQTT5-4.3.2-2 MQTT5-4.3.3-2", "clients")
def _(ctx):
    mqttjs_pubsub(ctx, 5)


@scenario("mqttjs-v5-subscription-id-and-user-properties",
          "MQTT5-3.3.4-3 MQTT5-3.3.2-17 MQTT5-3.3.2-15", "clients")
def _(ctx):
    t = ctx.topic()
    ev = ctx.mqttjs([
        dict(do="connect", name="s", clientId=ctx.cid("js")),
        dict(do="subscribe", name="s", topic=t, qos=1, properties=dict(subscriptionIdentifier=42)),
        dict(do="connect", name="p", clientId=ctx.cid("js")),
        dict(do="publish", name="p", topic=t, payload="hi", qos=1, properties=dict(
            userProperties=dict(room="salon"), responseTopic=t + "/r")),
        dict(do="wait", name="s", count=1),
    ], version=5)
    msg = [e for e in ev if e["event"] == "message"][0]
    pr = msg["properties"]
    check(pr.get("subscriptionIdentifier") in (42, [42]), f"properties {pr}")
    check(pr.get("userProperties") == {"room": "salon"}, f"properties {pr}")
    check(pr.get("responseTopic") == t + "/r", f"properties {pr}")


@scenario("mqttjs-v5-retained-with-paho-subscriber", "MQTT5-3.3.1-5 MQTT-3.3.1-6", "clients")
def _(ctx):
    t = ctx.topic()
    ctx.mqttjs([dict(do="connect", name="p", clientId=ctx.cid("js")),
                dict(do="publish", name="p", topic=t, payload="state", qos=1, retain=True)],
               version=5)
    c = ctx.paho(4)
    c.subscribe(t, 1)
    msg = c.get()
    check(msg.payload == b"state" and msg.retain, f"{msg.payload!r} retain={msg.retain}")
    c.publish(t, b"", qos=1, retain=True)


# ---------------------------------------------------------------------------------- auth / ACL

@scenario("auth-v311-password-file", "MQTT-3.1.4-4 MQTT-3.2.2-4 MQTT-3.2.2-5", "auth")
def _(ctx):
    port = ctx.need_auth()
    ctx.connect(4, username="alice", password="alice-pw", port=port)
    for user, pw in ((None, None), ("alice", "wrong"), ("mallory", "x")):
        c = ctx.raw(4, port=port)
        c.send(m.connect(ctx.cid(), 4, username=user, password=pw))
        ack = c.expect(m.CONNACK)
        check(ack.reason in (4, 5), f"{user}/{pw}: CONNACK {ack.reason}")
        check(not ack.session_present, "Session Present with a refusal")
        c.expect_closed()


@scenario("auth-v5-password-file", "MQTT5-3.1.4-2 MQTT5-3.2.2-6 MQTT5-3.2.2-7 MQTT5-4.13.2-1",
          "auth")
def _(ctx):
    port = ctx.need_auth()
    ctx.connect(5, username="bob", password="bob-pw", port=port)
    for user, pw in ((None, None), ("bob", "wrong")):
        c = ctx.raw(5, port=port)
        c.send(m.connect(ctx.cid(), 5, username=user, password=pw))
        ack = c.expect(m.CONNACK)
        check(ack.reason in (0x86, 0x87), f"{user}/{pw}: CONNACK 0x{ack.reason:02x}")
        c.expect_closed()


def acl_flow(ctx, version):
    port = ctx.need_auth()
    run = ctx.topic_root.split("/")[1]
    news, own = f"cfacl/{run}/news/{version}", f"cfacl/{run}/alice/{version}"
    alice, _ = ctx.connect(version, username="alice", password="alice-pw", port=port)
    bob, _ = ctx.connect(version, username="bob", password="bob-pw", port=port)
    ack = ctx.subscribe(alice, [(news, 1), (own, 1)])
    check(ack.codes in ([1, 1], [0, 0]) or 0x80 not in ack.codes, f"alice SUBACK {ack.codes}")
    # allowed: bob writes news, alice reads it
    ctx.publish_q1(bob, news, "headline", pid=1)
    msg = alice.expect(P)
    check(msg.payload == b"headline", f"{msg!r}")
    alice.send(m.ack(m.PUBACK, msg.pid, version))
    # denied write: acknowledged (0x87 allowed in 5.0) but not delivered
    bob.send(m.publish(own, "intrusion", 1, pid=2, version=version))
    a = bob.expect(m.PUBACK)
    check(a.reason in (0, 0x87) if version == 5 else True, f"PUBACK 0x{a.reason:02x}")
    # denied read: bob may fail the subscription or accept it and deliver nothing
    bob.send(m.subscribe(3, [(own, 1)], version))
    sa = bob.expect(m.SUBACK)
    ctx.publish_q1(alice, own, "private", pid=3)
    got = alice.expect(P)
    alice.send(m.ack(m.PUBACK, got.pid, version))
    check(got.payload == b"private", f"alice got {got!r}")
    bob.expect_nothing(0.5, kinds=(P,))
    check(sa.codes[0] in (0x80, 0x87, 0, 1), f"SUBACK {sa.codes}")
    # %u pattern
    mine = f"cfacl/{run}/users/bob/{version}"
    ctx.subscribe(bob, [(mine, 0)], pid=4)
    bob.send(m.publish(mine, "self", 0, version=version))
    check(bob.expect(P).payload == b"self", "pattern %u")


@scenario("acl-v311-read-write-pattern", "MQTT-3.3.5-2 MQTT-3.8.4-5", "auth")
def _(ctx):
    acl_flow(ctx, 4)


@scenario("acl-v5-read-write-pattern", "MQTT5-3.8.4-7 MQTT5-3.1.4-2", "auth")
def _(ctx):
    acl_flow(ctx, 5)


@scenario("auth-mosquitto-clients-password", "MQTT-3.1.4-4", "auth")
def _(ctx):
    port = ctx.need_auth()
    run = ctx.topic_root.split("/")[1]
    t = f"cfacl/{run}/users/alice/cli"
    sub = ctx.mosquitto_sub_start("-u", "alice", "-P", "alice-pw", "-t", t, "-C", "1", "-W", "8",
                                  port=port)
    time.sleep(0.5)
    r = ctx.mosquitto_pub("-u", "alice", "-P", "alice-pw", "-t", t, "-m", "ok", port=port)
    check(r.returncode == 0, r.stderr)
    out, err = sub.communicate(timeout=9)
    check(out.strip() == "ok", f"{out!r} {err!r}")
    r = ctx.mosquitto_pub("-u", "alice", "-P", "bad", "-t", t, "-m", "no", port=port)
    check(r.returncode != 0, "mosquitto_pub with a wrong password succeeded")
