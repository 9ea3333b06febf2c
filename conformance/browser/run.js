#!/usr/bin/env node
// Loads index.html in headless Chromium (Debian's /usr/bin/chromium, driven by puppeteer-core)
// from a small HTTP server on 127.0.0.1, lets page.js run MQTT.js against the broker's
// WebSocket listener, and reports the page's result. Exit 0 when every step passed, 1 when one
// failed or the page gave no result within the time bound, 2 on a usage or set-up error.
//
//   node conformance/browser/run.js --broker ws://127.0.0.1:PORT [--timeout-ms 60000]
//       [--chromium /usr/bin/chromium] [--prefix TOPIC_ROOT] [--trust-spki BASE64]
//
// For wss:// the broker's certificate is trusted by its public key (--trust-spki: base64 of
// the SHA-256 of its SubjectPublicKeyInfo), not by turning certificate checks off.
"use strict";

const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");

function parseArgs(argv) {
  const args = { broker: "", timeoutMs: 60000, chromium: "/usr/bin/chromium", prefix: "",
                 trustSpki: "" };
  for (let i = 0; i < argv.length; ++i) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case "--broker": args.broker = value; ++i; break;
      case "--timeout-ms": args.timeoutMs = Number(value); ++i; break;
      case "--chromium": args.chromium = value; ++i; break;
      case "--prefix": args.prefix = value; ++i; break;
      case "--trust-spki": args.trustSpki = value; ++i; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!/^wss?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(args.broker))
    throw new Error("--broker must be a ws:// or wss:// URL on a loopback host");
  if (!(args.timeoutMs > 0)) throw new Error("--timeout-ms must be positive");
  return args;
}

// Only these files are served; anything else is a 404.
function files() {
  const here = __dirname;
  return {
    "/index.html": [path.join(here, "index.html"), "text/html"],
    "/page.js": [path.join(here, "page.js"), "text/javascript"],
    "/mqtt.min.js": [path.join(here, "node_modules", "mqtt", "dist", "mqtt.min.js"),
                     "text/javascript"],
  };
}

function serve() {
  const table = files();
  const server = http.createServer((req, res) => {
    const entry = table[new URL(req.url, "http://127.0.0.1").pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(entry[0], (err, body) => {
      if (err) res.writeHead(500).end(String(err));
      else res.writeHead(200, { "content-type": entry[1], "cache-control": "no-store" }).end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`browser test: ${e.message}`);
    return 2;
  }
  const bundle = files()["/mqtt.min.js"][0];
  let puppeteer;
  try {
    puppeteer = require("puppeteer-core");
  } catch (e) {
    console.error("browser test: puppeteer-core is not installed: run `npm ci` in " +
                  "conformance/browser " +
                  "(bash ci/install-deps.sh does)");
    return 2;
  }
  if (!fs.existsSync(bundle)) {
    console.error(`browser test: ${bundle} missing: run \`npm ci\` in conformance/browser`);
    return 2;
  }
  if (!fs.existsSync(args.chromium)) {
    console.error(`browser test: ${args.chromium} missing (Debian package chromium)`);
    return 2;
  }

  const server = await serve();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "mqttwire-chromium-"));
  const prefix = args.prefix || `browser/${process.pid}-${Date.now().toString(36)}`;
  const pageUrl = `http://127.0.0.1:${server.address().port}/index.html?` +
    new URLSearchParams({ broker: args.broker, prefix }).toString();
  const log = [];
  let browser;
  const deadline = Date.now() + args.timeoutMs;
  try {
    browser = await puppeteer.launch({
      executablePath: args.chromium,
      headless: true,
      userDataDir: profile,
      timeout: args.timeoutMs,
      // No sandbox when run as root (CI); no background traffic to the outside world, which the
      // test machines refuse anyway.
      args: [
        ...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []),
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        ...(args.trustSpki ? [`--ignore-certificate-errors-spki-list=${args.trustSpki}`] : []),
      ],
    });
    const page = await browser.newPage();
    page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => log.push(`page error: ${e.message}`));
    page.on("requestfailed",
            (r) => log.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
    await page.goto(pageUrl, { waitUntil: "load", timeout: Math.max(1, deadline - Date.now()) });
    await page.waitForFunction(() => window.mqttwireResult !== undefined,
                               { timeout: Math.max(1, deadline - Date.now()), polling: 100 });
    const result = await page.evaluate(() => window.mqttwireResult);
    for (const s of result.steps)
      console.log(`${s.ok ? "ok  " : "FAIL"} ${s.name} (${s.ms} ms)` +
                  (s.detail ? `: ${s.detail}` : ""));
    if (!result.ok) {
      console.log(`browser test FAILED against ${args.broker}: ${result.error}`);
      for (const line of log) console.log(`  ${line}`);
      return 1;
    }
    console.log(`browser test passed against ${args.broker}: ${result.steps.length} steps ` +
                `in ${(await browser.version())}`);
    return 0;
  } catch (e) {
    const timedOut = e && e.name === "TimeoutError";
    console.log(`browser test FAILED against ${args.broker}: ` +
                (timedOut ? `the page gave no result within ${args.timeoutMs} ms`
                          : String((e && e.message) || e)));
    for (const line of log) console.log(`  ${line}`);
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`browser test: ${e && e.stack || e}`);
  process.exit(2);
});
