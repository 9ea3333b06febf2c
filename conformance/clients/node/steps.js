// MQTT.js driver for the conformance suite: runs a JSON program of steps and prints one JSON
// event per line. Usage: node steps.js '{"url":"mqtt://127.0.0.1:1883","version":5,"steps":[...]}'
// Steps: {"do":"connect","name":"a","clientId":..,"clean":true,"properties":{..}}
//        {"do":"subscribe","name":"a","topic":..,"qos":1,"opts":{nl,rap,rh},"properties":{..}}
//        {"do":"publish","name":"a","topic":..,"payload":..,"qos":1,"retain":false,"properties":{..}}
//        {"do":"wait","name":"a","count":N,"ms":3000}   (messages received by a)
//        {"do":"sleep","ms":200}  {"do":"end","name":"a"}
'use strict';
const mqtt = require('mqtt');

const prog = JSON.parse(process.argv[2]);
const clients = {};
const received = {};
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const fail = (msg) => { emit({ event: 'error', message: String(msg) }); process.exit(1); };
setTimeout(() => fail('program timeout'), prog.timeout_ms || 12000).unref();

function fromJson(props) {
  if (!props) return undefined;
  const out = Object.assign({}, props);
  if (out.correlationData !== undefined) out.correlationData = Buffer.from(out.correlationData);
  return out;
}

function toJson(packet) {
  const p = Object.assign({}, packet.properties || {});
  if (p.correlationData) p.correlationData = p.correlationData.toString();
  return p;
}

async function step(s) {
  const name = s.name || 'a';
  switch (s.do) {
    case 'connect': {
      const c = mqtt.connect(prog.url, {
        protocolVersion: prog.version, clientId: s.clientId, clean: s.clean !== false,
        reconnectPeriod: 0, connectTimeout: 5000, keepalive: 30,
        properties: fromJson(s.properties), username: s.username, password: s.password,
        ...(prog.ca ? { ca: require('fs').readFileSync(prog.ca) } : {}),
        ...(prog.cert ? { cert: require('fs').readFileSync(prog.cert),
                          key: require('fs').readFileSync(prog.key) } : {}),
      });
      received[name] = [];
      c.on('message', (topic, payload, packet) => {
        const ev = { event: 'message', client: name, topic, payload: payload.toString(),
                     qos: packet.qos, retain: packet.retain, properties: toJson(packet) };
        received[name].push(ev);
        emit(ev);
      });
      await new Promise((resolve, reject) => {
        c.once('connect', (connack) => {
          emit({ event: 'connack', client: name, sessionPresent: connack.sessionPresent,
                 reasonCode: connack.reasonCode || connack.returnCode || 0,
                 properties: toJson(connack) });
          resolve();
        });
        c.once('error', reject);
      });
      clients[name] = c;
      break;
    }
    case 'subscribe': {
      const o = Object.assign({ qos: s.qos || 0 }, s.opts || {});
      if (s.properties) o.properties = fromJson(s.properties);
      const granted = await clients[name].subscribeAsync(s.topic, o);
      emit({ event: 'suback', client: name, granted: granted.map((g) => g.qos) });
      break;
    }
    case 'publish': {
      await clients[name].publishAsync(s.topic, s.payload || '', {
        qos: s.qos || 0, retain: !!s.retain, properties: fromJson(s.properties) });
      emit({ event: 'published', client: name, topic: s.topic });
      break;
    }
    case 'wait': {
      const deadline = Date.now() + (s.ms || 3000);
      while (received[name].length < s.count && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (received[name].length < s.count) {
        fail(`client ${name}: ${received[name].length} of ${s.count} messages`);
      }
      break;
    }
    case 'sleep':
      await new Promise((r) => setTimeout(r, s.ms || 100));
      break;
    case 'end':
      await clients[name].endAsync();
      break;
    default:
      fail(`unknown step ${s.do}`);
  }
}

(async () => {
  try {
    for (const s of prog.steps) await step(s);
    for (const c of Object.values(clients)) if (c.connected) await c.endAsync();
    emit({ event: 'done' });
    process.exit(0);
  } catch (e) {
    fail(e && e.message ? e.message : e);
  }
})();
