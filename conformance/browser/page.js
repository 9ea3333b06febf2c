// Runs in the browser: MQTT.js (the `mqtt` global from its browser bundle) talks to the broker
// over ws:// and the outcome is published on window.mqttwireResult and in #result, where run.js
// reads it. Query parameters: broker (ws://host:port/path), prefix (a unique topic root).
//
// MQTT.js opens its WebSocket with the subprotocol "mqtt" (MQTT-6.0.0-3) and sends every packet
// as a binary message (MQTT-6.0.0-1); the broker must answer with "mqtt" (MQTT-6.0.0-4) or the
// browser's WebSocket fails the handshake.
"use strict";

const params = new URLSearchParams(location.search);
const brokerUrl = params.get("broker");
const prefix = params.get("prefix") || "browser/" + Date.now().toString(36);
const stepMs = Number(params.get("step_ms") || 5000);
document.getElementById("broker").textContent = brokerUrl;

const steps = [];
const clients = [];

function within(ms, promise, what) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Every message a client receives, and a bounded wait for the next one that matches.
function inbox(client) {
  const queue = [];
  const waiters = [];
  client.on("message", (topic, payload, packet) => {
    const m = { topic, payload, packet };
    const i = waiters.findIndex((w) => w.match(m));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    else queue.push(m);
  });
  return (match, what) => {
    const i = queue.findIndex(match);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
    return within(stepMs, new Promise((resolve) => waiters.push({ match, resolve })), what);
  };
}

function open(name, options) {
  const client = mqtt.connect(brokerUrl, {
    clientId: `${name}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 0, // a lost connection is a failure here, not something to hide
    connectTimeout: stepMs,
    ...options,
  });
  clients.push(client);
  const next = inbox(client);
  const connected = new Promise((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
    client.once("close", () => reject(new Error(`${name}: connection closed before CONNACK`)));
  });
  return within(stepMs, connected, `${name}: CONNACK`)
    .then((connack) => ({ client, next, connack }));
}

async function step(name, fn) {
  const t0 = performance.now();
  const li = document.createElement("li");
  li.textContent = name;
  document.getElementById("steps").appendChild(li);
  try {
    const detail = await fn();
    steps.push({ name, ok: true, ms: Math.round(performance.now() - t0), detail: detail || "" });
    li.textContent += ": ok";
  } catch (e) {
    const detail = String((e && e.message) || e);
    steps.push({ name, ok: false, ms: Math.round(performance.now() - t0), detail });
    li.textContent += ": FAILED " + e;
    throw e;
  }
}

const text = (bytes) => new TextDecoder().decode(bytes);

async function run() {
  let a, b, c;
  await step("3.1.1 connect over WebSocket", async () => {
    a = await open("a", { protocolVersion: 4 });
    expect(a.connack.returnCode === 0, `CONNACK return code ${a.connack.returnCode}`);
    expect(a.connack.sessionPresent === false, "session present on a clean connection");
  });

  await step("subscribe QoS 2", async () => {
    const suback = a.client.subscribeAsync(`${prefix}/qos/#`, { qos: 2 });
    const granted = await within(stepMs, suback, "SUBACK");
    expect(granted.length === 1 && granted[0].qos === 2, `granted ${JSON.stringify(granted)}`);
  });

  for (const qos of [0, 1, 2]) {
    await step(`publish and receive QoS ${qos}`, async () => {
      const topic = `${prefix}/qos/${qos}`;
      const payload = `message at QoS ${qos}`;
      const flow = a.client.publishAsync(topic, payload, { qos });
      await within(stepMs, flow, `QoS ${qos} publish flow`);
      const m = await a.next((m) => m.topic === topic, `QoS ${qos} delivery`);
      expect(text(m.payload) === payload, `payload ${JSON.stringify(text(m.payload))}`);
      expect(m.packet.qos === qos, `delivered at QoS ${m.packet.qos}`);
    });
  }

  await step("64 KiB binary payload, every byte value", async () => {
    const topic = `${prefix}/qos/binary`;
    const payload = new Uint8Array(65536);
    for (let i = 0; i < payload.length; ++i) payload[i] = (i * 7 + (i >> 8)) & 0xff;
    await within(stepMs, a.client.publishAsync(topic, payload, { qos: 1 }), "binary publish");
    const m = await a.next((m) => m.topic === topic, "binary delivery");
    expect(m.payload.length === payload.length, `received ${m.payload.length} bytes`);
    const bad = payload.findIndex((v, i) => m.payload[i] !== v);
    expect(bad < 0, `byte ${bad}: ${m.payload[bad]} != ${payload[bad]}`);
  });

  await step("retained message reaches a later subscriber", async () => {
    const topic = `${prefix}/retained/salon/luz/stat`;
    const retained = a.client.publishAsync(topic, "ON", { qos: 1, retain: true });
    await within(stepMs, retained, "retained publish");
    b = await open("b", { protocolVersion: 4 });
    await within(stepMs, b.client.subscribeAsync(`${prefix}/retained/#`, { qos: 1 }), "SUBACK");
    const m = await b.next((m) => m.topic === topic, "retained delivery");
    expect(text(m.payload) === "ON", `retained payload ${JSON.stringify(text(m.payload))}`);
    expect(m.packet.retain === true, "retained message delivered without the RETAIN flag");
    // an empty retained message clears it, so the broker keeps nothing of this run
    const cleared = a.client.publishAsync(topic, "", { qos: 1, retain: true });
    await within(stepMs, cleared, "retained clear");
  });

  await step("5.0 connect with properties, publish with user property, content type", async () => {
    c = await open("c", {
      protocolVersion: 5,
      properties: { receiveMaximum: 16, userProperties: { client: "browser" } },
    });
    expect(c.connack.reasonCode === 0, `CONNACK reason code ${c.connack.reasonCode}`);
    const topic = `${prefix}/v5/temperature`;
    const granted = await within(stepMs, c.client.subscribeAsync(topic, { qos: 1 }), "SUBACK");
    expect(granted[0].qos === 1, `granted ${JSON.stringify(granted)}`);
    await within(stepMs, c.client.publishAsync(topic, "22.5", {
      qos: 1,
      properties: {
        userProperties: { unit: "C" }, contentType: "text/plain", messageExpiryInterval: 60,
      },
    }), "v5 publish");
    const m = await c.next((m) => m.topic === topic, "v5 delivery");
    const p = m.packet.properties || {};
    expect(text(m.payload) === "22.5", `payload ${JSON.stringify(text(m.payload))}`);
    expect(p.userProperties && p.userProperties.unit === "C",
           `user properties ${JSON.stringify(p.userProperties)}`);
    expect(p.contentType === "text/plain", `content type ${JSON.stringify(p.contentType)}`);
  });

  await step("5.0 publisher to 3.1.1 subscriber", async () => {
    const topic = `${prefix}/qos/from-v5`;
    await within(stepMs, c.client.publishAsync(topic, "cross", { qos: 2 }), "v5 QoS 2 publish");
    const m = await a.next((m) => m.topic === topic, "cross-version delivery");
    expect(text(m.payload) === "cross" && m.packet.qos === 2,
           `got ${text(m.payload)} at QoS ${m.packet.qos}`);
  });

  await step("disconnect", async () => {
    await within(stepMs, Promise.all([a, b, c].map((x) => x.client.endAsync())), "DISCONNECT");
  });
}

function finish(ok, error) {
  for (const client of clients) client.end(true);
  const why = error ? String(error.message || error) : "";
  const result = { ok, broker: brokerUrl, steps, error: why };
  document.getElementById("result").textContent = JSON.stringify(result, null, 1);
  window.mqttwireResult = result;
}

if (typeof mqtt === "undefined") finish(false, new Error("MQTT.js bundle did not load"));
else if (!brokerUrl) finish(false, new Error("no ?broker= parameter"));
else run().then(() => finish(true), (e) => finish(false, e));
