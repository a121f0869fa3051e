// Browser test of the staff web UI: Debian's Chromium through
// playwright-core (never a downloaded browser) against real nodes and a real
// hub started by `tsunagu demo --serve-ui`. The center's staff member signs
// in and keeps the inbox open; the clinic sends an urgent referral through
// the CLI; the row appears without a reload. axe-core checks the login and
// inbox pages; screenshots go to docs/screenshots/.
//
// Run: npm ci && npm test (TSUNAGU_BIN names the binary; default
// ../../target/debug/tsunagu, which `cargo test` builds).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import axe from "axe-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.TSUNAGU_BIN || join(root, "target", "debug", "tsunagu");
const screenshots = join(root, "docs", "screenshots");
const run = promisify(execFile);

// RFC 6238: SHA-1, 6 digits, 30-second steps, as the node enrols them.
function totp(base32, now = Date.now()) {
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

let demo;
let served;
let browser;

before(async () => {
  demo = spawn(bin, ["demo", "--serve-ui", "--ui-port", "0", "--json"], {
    cwd: root,
    env: { ...process.env, TSUNAGU_LANG: "ja" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: demo.stdout });
  served = await new Promise((resolve, reject) => {
    demo.once("exit", (code) => reject(new Error(`demo exited early: ${code}`)));
    lines.once("line", (line) => resolve(JSON.parse(line)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
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
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once("exit", resolve));
    demo.kill("SIGTERM");
    await exited;
  }
});

function agency(id) {
  const a = served.agencies.find((x) => x.id === id);
  assert.ok(a, `${id} is not served`);
  return a;
}

// No serious or critical violation. axe runs through the DevTools protocol,
// not as page script, so the page's strict CSP stays in force.
async function checkAccessibility(page, what) {
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

// The clinic sends an urgent referral through the CLI, its findings full of
// markup; returns the envelope id.
async function clinicSendsReferral(findings) {
  const clinic = agency("sakura-clinic");
  const env = {
    ...process.env,
    TSUNAGU_LANG: "ja",
    TSUNAGU_AUTHOR_NAME: clinic.staff.name,
    TSUNAGU_AUTHOR_ROLE: "助産師",
    TSUNAGU_AUTHOR_CONTACT: "03-0000-0000",
  };
  const opened = await run(bin, ["agency", "case-open", "--config", clinic.config, "--json"], {
    cwd: root,
    env,
  });
  const caseId = JSON.parse(opened.stdout).case_id;
  assert.ok(caseId, opened.stdout);
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const due = new Date(today.getTime() + (40 - 12) * 7 * 86_400_000);
  const form = readFileSync(join(root, "examples", "referral.toml"), "utf8")
    .replace(/findings = """[\s\S]*?"""/, `findings = '''${findings}'''`)
    .replace(/due_date = \S+/, `due_date = ${iso(due)}`)
    .replace(/taken_on = \S+/, `taken_on = ${iso(today)}`)
    .replace(/birth_date = (\d{4})\S+/, "birth_date = $1-01-15");
  const dir = mkdtempSync(join(tmpdir(), "tsunagu-ui-"));
  const file = join(dir, "referral.toml");
  writeFileSync(file, form);
  const sent = await run(
    bin,
    [
      "agency", "send", "--config", clinic.config, "--to", "minato-center",
      "--case", caseId, "--basis", "provision-to-municipality",
      "--justification", "特定妊婦と思われ、早期の支援が必要なため",
      "--urgency", "emergency", "--file", file, "--json",
    ],
    { cwd: root, env },
  );
  return JSON.parse(sent.stdout);
}

test("the center sees an urgent referral arrive live, shown as text, and both main screens pass axe", async () => {
  mkdirSync(screenshots, { recursive: true });
  const center = agency("minato-center");
  const context = await browser.newContext({ locale: "ja-JP", viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on("dialog", (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
  });

  await page.goto(new URL("/login", center.ui).href);
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  await checkAccessibility(page, "login");
  await page.screenshot({ path: join(screenshots, "login.png"), fullPage: true });

  await page.getByLabel("氏名").fill(center.staff.name);
  await page.getByLabel("パスワード").fill(center.staff.password);
  await page.getByLabel("確認コード").fill(totp(center.staff.totp_secret));
  await Promise.all([page.waitForURL(new URL("/", center.ui).href), page.getByRole("button", { name: "ログイン" }).click()]);
  await page.getByRole("heading", { name: "受信箱" }).waitFor();
  // The live stream is open (live.js said so in the status region).
  await page.getByText("新着は自動で表示されます。").waitFor();

  // Marks this document: a reload would lose it.
  await page.evaluate(() => { window.stillTheSamePage = true; });
  const findings = "所見 <script>alert(1)</script><img src=x onerror=alert(2)>";
  const sent = await clinicSendsReferral(findings);

  const row = page.locator("#inbox-rows tr.urgent").first();
  await row.waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, "the page was reloaded");
  assert.match(await row.innerText(), /緊急/);
  assert.match(await row.innerText(), /さくらレディースクリニック/);
  await page.getByText("新着があります。").waitFor();
  await checkAccessibility(page, "inbox");
  await page.screenshot({ path: join(screenshots, "inbox.png"), fullPage: true });

  // The record: the markup is text on the page, nothing ran.
  await row.getByRole("link").click();
  await page.getByRole("heading", { name: /紹介/ }).waitFor();
  const text = await page.locator("main").innerText();
  assert.ok(text.includes("<script>alert(1)</script>"), text);
  assert.ok(text.includes("<img src=x onerror=alert(2)>"), text);
  assert.equal(await page.locator("main script, main img").count(), 0);
  assert.ok(page.url().endsWith(`/envelopes/${sent.id ?? sent.envelope_id}`), `${page.url()} ${JSON.stringify(sent)}`);
  await checkAccessibility(page, "record");

  // Keyboard alone reaches the sign-out button.
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === "ログアウト");
  }
  assert.ok(reached, "sign-out is not reachable by Tab");

  assert.deepEqual(problems, []);
  await context.close();
});
