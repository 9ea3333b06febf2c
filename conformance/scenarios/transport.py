"""The transport under MQTT: an ordered, lossless, two-way byte stream, whichever one the runner
was given (--transport tcp, tls, ws or wss). Each scenario here runs over every transport."""

import mqttcodec as m
import transport
from harness import check, scenario

COUNT = 200


def body(i):
    # sizes from 0 to about 3 KiB, so packets straddle TCP segments, TLS records and frames
    n = (i * 151) % 3001
    return bytes((i + k) & 0xFF for k in range(n))


@scenario("transport-ordered-lossless-stream", "MQTT-7.1.1-1 MQTT5-4.2-1 MQTT5-4.2.0-1",
          "transport", timeout=30)
def _(ctx):
    t = ctx.topic("stream")
    s, _ = ctx.connect(5)
    ctx.subscribe(s, [(t, 1)])
    p, _ = ctx.connect(5)
    # pipelined: every PUBLISH written before any acknowledgement is read
    p.send(b"".join(m.publish(t, body(i), 1, pid=i + 1, version=5) for i in range(COUNT)))
    acked = [p.expect(m.PUBACK, timeout=10).pid for _ in range(COUNT)]
    check(acked == list(range(1, COUNT + 1)), f"PUBACKs out of order over {transport.kind()}")
    for i in range(COUNT):
        msg = s.expect(m.PUBLISH, timeout=10)
        check(msg.payload == body(i),
              f"message {i} over {transport.kind()}: {len(msg.payload)} bytes, expected "
              f"{len(body(i))} (lost, reordered or corrupted)")
        s.send(m.ack(m.PUBACK, msg.pid, 5))
