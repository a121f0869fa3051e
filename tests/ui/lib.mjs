// What every browser test file shares: the demo started with
// `tsunagu demo --serve-ui` (a real hub and five real nodes, each serving
// its staff UI on a random port), Debian's Chromium through playwright-core
// (never a downloaded browser), sign-in with password and TOTP, axe-core,
// the CLI acting as an agency, and screenshots under docs/screenshots/.
//
// Each test file calls `startDemo()` in `before` and `stopDemo()` in
// `after`; files run one after another (node --test), each with its own demo.

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import axe from "axe-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const bin = process.env.TSUNAGU_BIN || join(root, "target", "debug", "tsunagu");
export const screenshots = join(root, "docs", "screenshots");
const execFileAsync = promisify(execFile);

// RFC 6238: SHA-1, 6 digits, 30-second steps, as the node enrols them.
export function totp(base32, now = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

/// A running demo: `served` is what `demo --serve-ui --json` printed
/// (hub url; per agency id, name, ui url, config path, demo staff and
/// administrator). `args` go to the demo command (e.g. --ui-idle-seconds).
export async function startDemo({ args = [] } = {}) {
  const child = spawn(bin, ["demo", "--serve-ui", "--ui-port", "0", "--json", ...args], {
    cwd: root,
    env: { ...process.env, TSUNAGU_LANG: "ja" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const served = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`demo exited early: ${code}`)));
    lines.once("line", (line) => resolve(JSON.parse(line)));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // The browser's own controls (file and date inputs) in Japanese, as on
    // the staff's machines: Debian's chromium-l10n, chosen by LANGUAGE.
    env: { ...process.env, LANGUAGE: "ja", LANG: "ja_JP.UTF-8" },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      // The machine's network is closed: no QUIC probes, no sync.
      "--disable-quic",
      "--disable-sync",
    ],
  });
  mkdirSync(screenshots, { recursive: true });
  const agency = (id) => {
    const a = served.agencies.find((x) => x.id === id);
    assert.ok(a, `${id} is not served`);
    return a;
  };
  return { child, served, browser, agency };
}

export async function stopDemo(demo) {
  await demo?.browser?.close();
  const child = demo?.child;
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

/// A fresh browser context and page that collect every problem a user
/// would notice (dialogs, script errors, failed responses) into
/// `problems`; pass `allow` a predicate for responses a test expects to
/// fail (a refused form answers 422).
export async function openPage(browser, { allow = () => false } = {}) {
  const context = await browser.newContext({ locale: "ja-JP", viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on("dialog", (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error" && !allow(m)) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !allow(r)) problems.push(`${r.status()} for ${r.url()}`);
  });
  return { context, page, problems };
}

// The last TOTP step each account signed in with: the node refuses a code
// once used, so a second sign-in within 30 s takes the next step's code
// (accepted one step early), and a third waits for the clock.
const usedSteps = new Map();

export async function freshCode(staff) {
  const key = `${staff.totp_secret}`;
  const now = Math.floor(Date.now() / 30_000);
  const step = Math.max(now, (usedSteps.get(key) ?? -1) + 1);
  if (step > now + 1) {
    await new Promise((resolve) => setTimeout(resolve, (step - 1) * 30_000 - Date.now() + 50));
  }
  usedSteps.set(key, step);
  return totp(staff.totp_secret, step * 30_000);
}

/// Sign `agency`'s demo staff member in (password, then TOTP) and land on
/// the inbox.
export async function login(page, agency, staff = agency.staff) {
  await page.goto(new URL("/login", agency.ui).href);
  await page.getByLabel("氏名").fill(staff.name);
  await page.getByLabel("パスワード").fill(staff.password);
  await page.getByLabel("確認コード").fill(await freshCode(staff));
  await Promise.all([
    page.waitForURL(new URL("/", agency.ui).href),
    page.getByRole("button", { name: "ログイン" }).click(),
  ]);
  await page.getByRole("heading", { name: "受信箱" }).waitFor();
}

/// No serious or critical violation. axe runs through the DevTools
/// protocol, not as page script, so the page's strict CSP stays in force.
export async function checkAccessibility(page, what) {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ["violations"] }),
  );
  const bad = result.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`),
    [],
    `${what}: accessibility violations`,
  );
}

/// A full-page screenshot docs/screenshots/NAME.png (the README and the
/// staff guide show them).
export async function screenshot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/// Run the CLI as `agency` (its demo config), signed as its demo staff
/// member; returns stdout parsed as JSON when `--json` is among `args`.
export async function cli(agency, args, role = agency.staff.role) {
  const env = {
    ...process.env,
    TSUNAGU_LANG: "ja",
    TSUNAGU_AUTHOR_NAME: agency.staff.name,
    TSUNAGU_AUTHOR_ROLE: role,
    TSUNAGU_AUTHOR_CONTACT: "内線 100",
  };
  const [command, ...rest] = args;
  const { stdout } = await execFileAsync(
    bin,
    ["agency", command, "--config", agency.config, ...rest],
    { cwd: root, env },
  );
  return args.includes("--json") ? JSON.parse(stdout) : stdout;
}
