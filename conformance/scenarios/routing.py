"""Retained messages and retain options, wills and will delay, 5.0 features (topic aliases,
subscription identifiers and options, shared subscriptions, message expiry, maximum packet
size, request/response, user properties) and `$` topics (raw clients)."""

import time

import mqttcodec as m
from harness import check, scenario

P = m.PUBLISH


def collect(c, duration=0.6):
    return [p for p in c.expect_nothing(duration, kinds=()) if p.type == P]


# ---------------------------------------------------------------------------------- retained

def retained_lifecycle(ctx, version):
    t = ctx.topic()
    p, _ = ctx.connect(version)
    ctx.publish_q1(p, t, "v1", pid=1, retain=True)
    p.send(m.publish(t, "v2", 0, retain=True, version=version))  # QoS 0 replaces
    p.send(m.publish(t, "live", 0, retain=False, version=version))  # not stored
    time.sleep(0.2)
    s, _ = ctx.connect(version)
    ctx.subscribe(s, [(t, 1)])
    msg = s.expect(P)
    check(msg.payload == b"v2" and msg.retain, f"retained on subscribe: {msg!r}")
    s.expect_nothing(0.3, kinds=(P,))
    # live delivery to an established subscription has RETAIN=0 (3.1.1; 5.0 with RAP=0)
    ctx.publish_q1(p, t, "v3", pid=2, retain=True)
    live = s.expect(P)
    check(live.payload == b"v3" and not live.retain, f"live delivery {live!r}")
    s.send(m.ack(m.PUBACK, live.pid, version))
    # empty payload: delivered normally, deletes the retained message, is never stored
    ctx.publish_q1(p, t, b"", pid=3, retain=True)
    gone = s.expect(P)
    check(gone.payload == b"", f"empty retained not delivered normally: {gone!r}")
    s.send(m.ack(m.PUBACK, gone.pid, version))
    s2, _ = ctx.connect(version)
    ctx.subscribe(s2, [(t, 1)])
    s2.expect_nothing(0.5, kinds=(P,))


@scenario("retained-v311-set-replace-delete",
          "MQTT-3.3.1-5 MQTT-3.3.1-6 MQTT-3.3.1-7 MQTT-3.3.1-8 MQTT-3.3.1-9 MQTT-3.3.1-10 "
          "MQTT-3.3.1-11 MQTT-3.3.1-12", "retained")
def _(ctx):
    retained_lifecycle(ctx, 4)


@scenario("retained-v5-set-replace-delete",
          "MQTT5-3.3.1-5 MQTT5-3.3.1-6 MQTT5-3.3.1-7 MQTT5-3.3.1-8 MQTT5-3.3.1-12", "retained")
def _(ctx):
    retained_lifecycle(ctx, 5)


@scenario("retained-survives-session-end", "MQTT-3.1.2-7", "retained")
def _(ctx):
    t = ctx.topic()
    cid = ctx.cid()
    p, _ = ctx.connect(4, cid=cid, clean=True)
    ctx.publish_q1(p, t, "kept", pid=1, retain=True)
    p.send(m.disconnect())
    p.expect_closed()
    s, _ = ctx.connect(4)
    ctx.subscribe(s, [(t, 0)])
    msg = s.expect(P)
    check(msg.payload == b"kept" and msg.retain, f"{msg!r}")
    ctx.publish_q1(s, t, b"", pid=2, retain=True)


@scenario("retained-v5-retain-handling-0-1-2",
          "MQTT5-3.3.1-9 MQTT5-3.3.1-10 MQTT5-3.3.1-11 MQTT5-3.8.4-3 MQTT5-3.8.4-4", "retained")
def _(ctx):
    t = ctx.topic()
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, "state", pid=1, retain=True)
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(t, m.sub_options(1, rh=2))], pid=1)
    s.expect_nothing(0.4, kinds=(P,))                          # RH 2: none
    ctx.subscribe(s, [(t, m.sub_options(1, rh=1))], pid=2)
    s.expect_nothing(0.4, kinds=(P,))                          # RH 1, existed: none
    ctx.subscribe(s, [(t, m.sub_options(1, rh=0))], pid=3)
    msg = s.expect(P)                                          # RH 0 replacement: re-sent
    check(msg.payload == b"state" and msg.retain, f"{msg!r}")
    s.send(m.ack(m.PUBACK, msg.pid, 5))
    s2, _ = ctx.connect(5)
    ctx.subscribe(s2, [(t, m.sub_options(1, rh=1))])
    msg = s2.expect(P)                                         # RH 1, new: sent
    check(msg.payload == b"state", f"{msg!r}")
    s2.send(m.ack(m.PUBACK, msg.pid, 5))
    ctx.publish_q1(p, t, b"", pid=2, retain=True)


@scenario("retained-v5-retain-as-published", "MQTT5-3.3.1-12 MQTT5-3.3.1-13", "retained")
def _(ctx):
    t = ctx.topic()
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(t, m.sub_options(0, rap=True)), (t + "/x", m.sub_options(0))])
    p, _ = ctx.connect(5)
    p.send(m.publish(t, "r", 0, retain=True, version=5))
    p.send(m.publish(t + "/x", "r", 0, retain=True, version=5))
    a, b = s.expect(P), s.expect(P)
    by = {x.topic: x for x in (a, b)}
    check(by[t].retain, "Retain As Published=1 forwarded RETAIN=0")
    check(not by[t + "/x"].retain, "Retain As Published=0 forwarded RETAIN=1")
    for topic in (t, t + "/x"):
        p.send(m.publish(topic, b"", 0, retain=True, version=5))


# ---------------------------------------------------------------------------------- wills

def will_on_abnormal_close(ctx, version, retain):
    wt = ctx.topic("will")
    s, _ = ctx.connect(version)
    ctx.subscribe(s, [(wt, 1)])
    w, _ = ctx.connect(version, will=dict(topic=wt, payload=b"gone", qos=1, retain=retain))
    w.close()  # no DISCONNECT
    msg = s.expect(P, timeout=4)
    check(msg.payload == b"gone" and msg.qos == 1, f"will {msg!r}")
    check(not msg.retain, "live will delivery with RETAIN=1")
    s.send(m.ack(m.PUBACK, msg.pid, version))
    s2, _ = ctx.connect(version)
    ctx.subscribe(s2, [(wt, 0)])
    if retain:
        r = s2.expect(P)
        check(r.retain and r.payload == b"gone", f"will not retained: {r!r}")
        ctx.publish_q1(s2, wt, b"", pid=2, retain=True)
    else:
        s2.expect_nothing(0.4, kinds=(P,))


@scenario("will-v311-abnormal-close-not-retained",
          "MQTT-3.1.2-8 MQTT-3.1.2-16 MQTT-3.1.2-10", "will")
def _(ctx):
    will_on_abnormal_close(ctx, 4, False)


@scenario("will-v311-retained", "MQTT-3.1.2-8 MQTT-3.1.2-17", "will")
def _(ctx):
    will_on_abnormal_close(ctx, 4, True)


@scenario("will-v5-abnormal-close-not-retained",
          "MQTT5-3.1.2-7 MQTT5-3.1.2-8 MQTT5-3.1.2-14 MQTT5-3.1.2-10", "will")
def _(ctx):
    will_on_abnormal_close(ctx, 5, False)


@scenario("will-v5-retained", "MQTT5-3.1.2-15", "will")
def _(ctx):
    will_on_abnormal_close(ctx, 5, True)


@scenario("will-not-after-normal-disconnect",
          "MQTT-3.14.4-3 MQTT-3.1.2-10 MQTT-3.1.2-12 MQTT5-3.14.4-3 MQTT5-3.1.2-10", "will")
def _(ctx):
    wt = ctx.topic("will")
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(wt, 0)])
    for version in (4, 5):
        w, _ = ctx.connect(version, will=dict(topic=wt, payload=b"no"))
        w.send(m.disconnect(version))
        w.expect_closed()
    plain, _ = ctx.connect(4)  # no will at all
    plain.close()
    s.expect_nothing(0.8, kinds=(P,))


@scenario("will-on-protocol-error", "MQTT-3.1.2-8 MQTT-4.8.0-1 MQTT5-3.1.2-8", "will")
def _(ctx):
    wt = ctx.topic("will")
    s, _ = ctx.connect(4)
    ctx.subscribe(s, [(wt, 0)])
    w, _ = ctx.connect(4, will=dict(topic=wt, payload=b"violated"))
    w.send(bytes.fromhex("36050001610001"))  # QoS 3
    w.expect_closed()
    msg = s.expect(P, timeout=4)
    check(msg.payload == b"violated", f"{msg!r}")


@scenario("will-on-keepalive-expiry", "MQTT-3.1.2-8 MQTT-3.1.2-24", "will", timeout=12,
          expected_to_fail_on=["mosquitto"],
          why="MQTT-3.1.2-24: mosquitto 2.0.11 does not drop an idle 3.1.1 client after 1.5 x "
              "Keep Alive, so its will is not published in time")
def _(ctx):
    wt = ctx.topic("will")
    s, _ = ctx.connect(4)
    ctx.subscribe(s, [(wt, 0)])
    w, _ = ctx.connect(4, keepalive=1, will=dict(topic=wt, payload=b"timeout"))
    msg = s.expect(P, timeout=5)
    check(msg.payload == b"timeout", f"{msg!r}")


@scenario("will-v5-disconnect-with-will-0x04", "MQTT5-3.1.2-8 MQTT5-3.1.3-10", "will")
def _(ctx):
    wt = ctx.topic("will")
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(wt, 0)])
    ups = [(m.USER_PROPERTY, ("k", "1")), (m.USER_PROPERTY, ("a", "2")),
           (m.USER_PROPERTY, ("k", "3"))]
    w, _ = ctx.connect(5, will=dict(topic=wt, payload=b"bye", properties=ups))
    w.send(m.disconnect(5, 0x04))
    w.close()  # the sender of DISCONNECT closes the connection (MQTT5-3.14.4-2)
    msg = s.expect(P, timeout=3)
    check(msg.payload == b"bye", f"{msg!r}")
    check(msg.user_properties == [("k", "1"), ("a", "2"), ("k", "3")],
          f"will user properties {msg.user_properties}")


@scenario("will-v5-delay-and-cancel-on-reconnect", "MQTT5-3.1.2-8 MQTT5-3.1.3-9", "will",
          timeout=15)
def _(ctx):
    wt = ctx.topic("will")
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(wt, 0)])
    cid = ctx.cid()
    props = [(m.SESSION_EXPIRY, 30)]
    will = dict(topic=wt, payload=b"late", properties=[(m.WILL_DELAY, 2)])
    w, _ = ctx.connect(5, cid=cid, clean=False, will=will, properties=props)
    w.close()
    t0 = time.monotonic()
    msg = s.expect(P, timeout=6)
    dt = time.monotonic() - t0
    check(msg.payload == b"late" and dt >= 1.5, f"will after {dt:.2f} s (delay 2 s)")
    # reconnecting within the delay cancels it
    w, _ = ctx.connect(5, cid=cid, clean=False, will=will, properties=props)
    w.close()
    time.sleep(0.5)
    w, _ = ctx.connect(5, cid=cid, clean=False, properties=props)
    s.expect_nothing(2.8, kinds=(P,))
    w.send(m.disconnect(5))
    ctx.connect(5, cid=cid)


# ---------------------------------------------------------------------------------- topic aliases

@scenario("alias-v5-client-to-server", "MQTT5-3.3.2-12 MQTT5-3.3.2-7 MQTT5-3.1.2-27", "alias")
def _(ctx):
    t = ctx.topic()
    s, _ = ctx.connect(5)  # no Topic Alias Maximum: the server must send none
    ctx.subscribe(s, [(t, 0)])
    p, ack = ctx.connect(5)
    tam = ack.prop(m.TOPIC_ALIAS_MAXIMUM, 0)
    if tam == 0:
        return  # the server accepts no aliases; nothing to exercise
    p.send(m.publish(t, "1", 0, version=5, properties=[(m.TOPIC_ALIAS, tam)]))
    p.send(m.publish("", "2", 0, version=5, properties=[(m.TOPIC_ALIAS, tam)]))
    for want in (b"1", b"2"):
        msg = s.expect(P)
        check(msg.topic == t and msg.payload == want, f"{msg!r}")
        check(msg.prop(m.TOPIC_ALIAS) is None, "Topic Alias sent to a client that allows none")
    # aliases are per connection: a new connection does not know alias tam
    p2, _ = ctx.connect(5)
    p2.send(m.publish("", "3", 0, version=5, properties=[(m.TOPIC_ALIAS, tam)]))
    p2.expect_closed()
    s.expect_nothing(0.3, kinds=(P,))


@scenario("alias-v5-alias-zero-or-above-maximum", "MQTT5-3.3.2-12 MQTT5-4.13.1-1", "alias")
def _(ctx):
    t = ctx.topic()
    for alias in (0, None):
        p, ack = ctx.connect(5)
        tam = ack.prop(m.TOPIC_ALIAS_MAXIMUM, 0)
        a = tam + 1 if alias is None else 0
        p.send(m.publish(t, "x", 0, version=5, properties=[(m.TOPIC_ALIAS, a)]))
        d = p.expect_closed()
        # 0x94 (Topic Alias invalid) is the specific code; 0x81/0x82 name the same violation
        check(d is None or d.reason in (0x94, 0x81, 0x82), f"alias {a}: DISCONNECT {d!r}")


@scenario("alias-v5-server-to-client-bounded", "MQTT5-3.1.2-26 MQTT5-3.3.2-11", "alias")
def _(ctx):
    s, _ = ctx.connect(5, properties=[(m.TOPIC_ALIAS_MAXIMUM, 2)])
    ctx.subscribe(s, [(ctx.topic("#"), 0)])
    p, _ = ctx.connect(5)
    names = {}
    for i in range(6):
        topic = ctx.topic(f"n{i % 4}")
        p.send(m.publish(topic, str(i), 0, version=5))
        msg = s.expect(P)
        a = msg.prop(m.TOPIC_ALIAS)
        if a is not None:
            check(1 <= a <= 2, f"server Topic Alias {a} above the client's maximum 2")
            if msg.topic:
                names[a] = msg.topic
            check(names.get(a) == topic, f"alias {a} resolves to {names.get(a)}, sent {topic}")
        else:
            check(msg.topic == topic, f"{msg!r}")


# ---------------------------------------------------------------------------------- subscriptions

@scenario("subid-v5-identifiers-forwarded",
          "MQTT5-3.3.4-3 MQTT5-3.3.4-4 MQTT5-3.3.4-5", "subscription-ids")
def _(ctx):
    t = ctx.topic("a")
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(t, 0)], pid=1, properties=[(m.SUBSCRIPTION_ID, 7)])
    ctx.subscribe(s, [(ctx.topic("+"), 0)], pid=2, properties=[(m.SUBSCRIPTION_ID, 300)])
    ctx.subscribe(s, [(ctx.topic("#"), 0)], pid=3)  # no identifier
    p, _ = ctx.connect(5)
    p.send(m.publish(t, "x", 0, version=5))
    msgs = [s.expect(P)] + collect(s, 0.6)
    ids = sorted(i for x in msgs for i in x.all(m.SUBSCRIPTION_ID))
    check(ids == [7, 300], f"Subscription Identifiers {ids} in {len(msgs)} message(s)")
    if len(msgs) > 1:
        for x in msgs:
            check(len(x.all(m.SUBSCRIPTION_ID)) <= 1, "a separate copy carries several ids")
    p.send(m.publish(ctx.topic("b/c"), "y", 0, version=5))  # only '#' matches
    msg = s.expect(P)
    check(msg.all(m.SUBSCRIPTION_ID) == [], f"id on a message matched without one: {msg!r}")


@scenario("subopt-v5-no-local", "MQTT5-3.8.3-3", "subscription-options")
def _(ctx):
    t = ctx.topic()
    c, _ = ctx.connect(5)
    ctx.subscribe(c, [(t, m.sub_options(0, no_local=True))])
    o, _ = ctx.connect(5)
    ctx.subscribe(o, [(t, 0)])
    c.send(m.publish(t, "mine", 0, version=5))
    msg = o.expect(P)
    check(msg.payload == b"mine", f"{msg!r}")
    c.expect_nothing(0.5, kinds=(P,))


@scenario("shared-v5-round-robin-no-retained",
          "MQTT5-4.8.2-3 MQTT5-4.5.0-1", "shared", expected_to_fail_on=["mosquitto"],
          why="MQTT 5.0 section 4.8.2 (retained messages are not sent when subscribing to a "
              "shared subscription): mosquitto 2.0.11 sends the retained message")
def _(ctx):
    t = ctx.topic()
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, "retained", pid=1, retain=True)
    group = f"$share/{ctx.prefix}g/{t}"
    a, _ = ctx.connect(5)
    b, _ = ctx.connect(5)
    ctx.subscribe(a, [(group, 1)])
    ctx.subscribe(b, [(group, 0)])
    n = ctx.connect(5)[0]
    ctx.subscribe(n, [(t, m.sub_options(0, rh=2))])
    time.sleep(0.2)
    check(not collect(a, 0.3) and not collect(b, 0.1), "retained message sent on a shared subscription")
    for i in range(10):
        ctx.publish_q1(p, t, str(i), pid=10 + i)
    got_a, got_b = collect(a, 0.8), collect(b, 0.2)
    for x in got_a:
        a.send(m.ack(m.PUBACK, x.pid, 5))
    payloads = sorted(int(x.payload) for x in got_a + got_b)
    check(payloads == list(range(10)), f"shared group got {payloads}")
    check(got_a and got_b, f"no load sharing: {len(got_a)} / {len(got_b)}")
    check(all(x.qos == 0 for x in got_b), "QoS above the member's granted QoS 0")
    check(len(collect(n, 0.3)) + 0 <= 10, "")
    ctx.publish_q1(p, t, b"", pid=2, retain=True)


@scenario("shared-v5-no-local-protocol-error", "MQTT5-4.13.1-1", "shared",
          expected_to_fail_on=["mosquitto"],
          why="MQTT 5.0 section 3.8.3.1 (No Local on a shared subscription is a Protocol "
              "Error): mosquitto 2.0.11 accepts the subscription")
def _(ctx):
    c, _ = ctx.connect(5)
    c.send(m.subscribe(1, [(f"$share/g/{ctx.topic()}", m.sub_options(0, no_local=True))], 5))
    d = c.expect_closed()
    check(d is None or d.reason == 0x82, f"DISCONNECT {d!r}, expected 0x82")


@scenario("shared-v5-negative-ack-not-redirected", "MQTT5-4.8.2-6", "shared")
def _(ctx):
    t = ctx.topic()
    group = f"$share/{ctx.prefix}g/{t}"
    a, _ = ctx.connect(5)
    b, _ = ctx.connect(5)
    ctx.subscribe(a, [(group, 1)])
    ctx.subscribe(b, [(group, 1)])
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, "only-once", pid=1)
    first = (collect(a, 0.5) + collect(b, 0.1))
    check(len(first) == 1, f"{len(first)} deliveries")
    rejecter = a if first[0] in a.log else b
    other = b if rejecter is a else a
    rejecter.send(m.ack(m.PUBACK, first[0].pid, 5, reason=0x80))
    check(not collect(other, 0.6), "message re-sent to another member after a negative PUBACK")


# ---------------------------------------------------------------------------------- expiry

@scenario("expiry-v5-offline-message-expires", "MQTT5-3.3.2-5 MQTT5-4.3.3-7", "expiry",
          timeout=15)
def _(ctx):
    cid, t = ctx.cid(), ctx.topic()
    props = [(m.SESSION_EXPIRY, 60)]
    s, _ = ctx.connect(5, cid=cid, clean=False, properties=props)
    ctx.subscribe(s, [(t, 1)])
    s.send(m.disconnect(5))
    s.expect_closed()
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, "short", pid=1, properties=[(m.MESSAGE_EXPIRY, 1)])
    ctx.publish_q1(p, t, "long", pid=2, properties=[(m.MESSAGE_EXPIRY, 100)])
    time.sleep(2.2)
    s, ack = ctx.connect(5, cid=cid, clean=False, properties=props)
    msgs = [s.expect(P)] + collect(s, 0.5)
    check([x.payload for x in msgs] == [b"long"], f"got {[x.payload for x in msgs]}")
    left = msgs[0].prop(m.MESSAGE_EXPIRY)
    check(left is not None and left <= 98, f"forwarded expiry {left}, expected <= 98")
    s.send(m.ack(m.PUBACK, msgs[0].pid, 5))
    s.send(m.disconnect(5))
    ctx.connect(5, cid=cid)


@scenario("expiry-v5-retained-expiry-decremented", "MQTT5-3.3.2-6 MQTT5-3.3.2-5", "expiry",
          timeout=15)
def _(ctx):
    t = ctx.topic()
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, "r", pid=1, retain=True, properties=[(m.MESSAGE_EXPIRY, 10)])
    ctx.publish_q1(p, t + "/gone", "r", pid=2, retain=True, properties=[(m.MESSAGE_EXPIRY, 1)])
    time.sleep(2.2)
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(t, 0), (t + "/gone", 0)])
    msgs = [s.expect(P)] + collect(s, 0.5)
    check([x.topic for x in msgs] == [t], f"retained delivered: {[x.topic for x in msgs]}")
    left = msgs[0].prop(m.MESSAGE_EXPIRY)
    check(left is not None and left <= 8, f"forwarded expiry {left}, expected <= 8")
    ctx.publish_q1(p, t, b"", pid=3, retain=True)


# ---------------------------------------------------------------------------------- packet size

@scenario("maxpacket-v5-client-limit-respected", "MQTT5-3.1.2-24 MQTT5-3.1.2-25", "max-packet-size")
def _(ctx):
    t = ctx.topic()
    s, _ = ctx.connect(5, properties=[(m.MAXIMUM_PACKET_SIZE, 200)])
    ctx.subscribe(s, [(t, 1)])
    p, _ = ctx.connect(5)
    ctx.publish_q1(p, t, b"x" * 500, pid=1)
    ctx.publish_q1(p, t, b"small", pid=2)
    msg = s.expect(P)
    check(msg.payload == b"small", f"got {len(msg.payload)} bytes: oversized message sent")
    check(len(msg.raw) <= 200, "packet above the client's Maximum Packet Size")
    s.send(m.ack(m.PUBACK, msg.pid, 5))
    s.expect_nothing(0.4, kinds=(P,))


@scenario("maxpacket-v5-server-limit-0x95", "MQTT5-4.13.1-1", "max-packet-size",
          expected_to_fail_on=["mosquitto/ws", "mosquitto/wss"],
          why="MQTT5-4.13.1-1, MQTT-4.8.0-1: over WebSocket mosquitto 2.0.11 does not enforce "
              "max_packet_size: the connection stays open (observed for 40 s after a packet "
              "10 bytes over the limit, 20 s after a 200 MB fixed header)")
def _(ctx):
    c, ack = ctx.connect(5)
    limit = ack.prop(m.MAXIMUM_PACKET_SIZE)
    check(limit is not None, "no Maximum Packet Size in CONNACK (the config sets 100000)")
    c.send(m.publish(ctx.topic(), b"y" * (limit + 10), 0, version=5))
    d = c.expect_closed()
    check(d is None or d.reason == 0x95, f"DISCONNECT {d!r}, expected 0x95")


@scenario("maxpacket-v311-oversized-closed-others-unaffected", "MQTT-4.8.0-1", "max-packet-size",
          expected_to_fail_on=["mosquitto/ws", "mosquitto/wss"],
          why="MQTT5-4.13.1-1, MQTT-4.8.0-1: over WebSocket mosquitto 2.0.11 does not enforce "
              "max_packet_size: the connection stays open (observed for 40 s after a packet "
              "10 bytes over the limit, 20 s after a 200 MB fixed header)")
def _(ctx):
    t = ctx.topic()
    s, _ = ctx.connect(4)
    ctx.subscribe(s, [(t, 0)])
    big, _ = ctx.connect(4)
    # announce 200 MB; the broker must refuse on the header, not buffer it
    big.send(bytes([0x30]) + m.varint(200_000_000) + b"\x00\x01a")
    big.expect_closed()
    p, _ = ctx.connect(4)
    p.send(m.publish(t, "still fine"))
    check(s.expect(P).payload == b"still fine", "other clients affected")


# ---------------------------------------------------------------------------------- properties

@scenario("reqresp-v5-properties-forwarded-unchanged",
          "MQTT5-3.3.2-4 MQTT5-3.3.2-15 MQTT5-3.3.2-16 MQTT5-3.3.2-17 MQTT5-3.3.2-18 "
          "MQTT5-3.3.2-20", "request-response")
def _(ctx):
    t, rt = ctx.topic("req"), ctx.topic("resp")
    responder, _ = ctx.connect(5)
    ctx.subscribe(responder, [(t, 1)])
    requester, _ = ctx.connect(5)
    ctx.subscribe(requester, [(rt, 1)])
    ups = [(m.USER_PROPERTY, ("z", "1")), (m.USER_PROPERTY, ("a", "2")),
           (m.USER_PROPERTY, ("z", "3"))]
    ctx.publish_q1(requester, t, "ping", pid=1, properties=[
        (m.RESPONSE_TOPIC, rt), (m.CORRELATION_DATA, b"\x00\x01corr"), (m.CONTENT_TYPE, "text/x"),
        (m.PAYLOAD_FORMAT, 1)] + ups)
    req = responder.expect(P)
    check(req.prop(m.RESPONSE_TOPIC) == rt, "Response Topic")
    check(req.prop(m.CORRELATION_DATA) == b"\x00\x01corr", "Correlation Data")
    check(req.prop(m.CONTENT_TYPE) == "text/x", "Content Type")
    check(req.prop(m.PAYLOAD_FORMAT) == 1, "Payload Format Indicator")
    check(req.user_properties == [("z", "1"), ("a", "2"), ("z", "3")],
          f"User Properties {req.user_properties}")
    responder.send(m.ack(m.PUBACK, req.pid, 5))
    ctx.publish_q1(responder, req.prop(m.RESPONSE_TOPIC), "pong", pid=1,
                   properties=[(m.CORRELATION_DATA, req.prop(m.CORRELATION_DATA))])
    resp = requester.expect(P)
    check(resp.payload == b"pong" and resp.prop(m.CORRELATION_DATA) == b"\x00\x01corr",
          f"{resp!r}")


@scenario("problem-info-v5-request-problem-information-0", "MQTT5-3.1.2-29", "connect")
def _(ctx):
    # An error SUBACK (a '$share' filter with No Local is a protocol error, so use an invalid
    # shared name instead) must carry no Reason String or User Property when RPI=0.
    c, _ = ctx.connect(5, properties=[(m.REQUEST_PROBLEM_INFO, 0)])
    ack = ctx.subscribe(c, [(ctx.topic(), 0)])
    check(not [k for k, _ in ack.props if k in (m.REASON_STRING, m.USER_PROPERTY)],
          f"SUBACK properties {ack.props}")
    c.send(m.unsubscribe(2, [ctx.topic("none")], 5))
    un = c.expect(m.UNSUBACK)
    check(not [k for k, _ in un.props if k in (m.REASON_STRING, m.USER_PROPERTY)],
          f"UNSUBACK properties {un.props}")


# ---------------------------------------------------------------------------------- $ topics

@scenario("dollar-topics-not-matched-by-wildcards", "MQTT-4.7.2-1 MQTT5-4.7.2-1", "dollar")
def _(ctx):
    root = ctx.prefix
    s, _ = ctx.connect(4)
    ctx.subscribe(s, [("#", 0), ("+/" + root, 0), ("+/+/" + root, 0)])
    d, _ = ctx.connect(4)
    ctx.subscribe(d, [(f"$cf{root}/#", 0)])
    p, _ = ctx.connect(4)
    p.send(m.publish(f"$cf{root}/{root}", "dollar"))
    p.send(m.publish(f"cf{root}/{root}", "plain"))
    msgs = [s.expect(P)] + collect(s, 0.6)
    check(all(not x.topic.startswith("$") for x in msgs),
          f"wildcard delivered {[x.topic for x in msgs if x.topic.startswith('$')]}")
    check(any(x.topic == f"cf{root}/{root}" for x in msgs), "plain topic not delivered")
    got = d.expect(P)
    check(got.topic == f"$cf{root}/{root}", f"explicit $ subscription got {got!r}")
