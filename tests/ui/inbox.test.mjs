// Browser test of the inbox: the center's staff member signs in and keeps
// the inbox open; the clinic sends an urgent referral through the CLI; the
// row appears without a reload, its markup shown as text. axe-core checks
// the login, inbox and record pages; screenshots go to docs/screenshots/.
//
// Run: npm ci && npm test (TSUNAGU_BIN names the binary; default
// ../../target/debug/tsunagu, which `cargo test` builds).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, startDemo, stopDemo, openPage, totp, checkAccessibility, screenshot, cli } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

// The clinic sends an urgent referral through the CLI, its findings full of
// markup; returns the envelope id.
async function clinicSendsReferral(findings) {
  const clinic = demo.agency("sakura-clinic");
  const opened = await cli(clinic, ["case-open", "--json"], "助産師");
  const caseId = opened.case_id;
  assert.ok(caseId, JSON.stringify(opened));
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
  return cli(
    clinic,
    [
      "send", "--to", "minato-center",
      "--case", caseId, "--basis", "provision-to-municipality",
      "--justification", "特定妊婦と思われ、早期の支援が必要なため",
      "--urgency", "emergency", "--file", file, "--json",
    ],
    "助産師",
  );
}

test("the center sees an urgent referral arrive live, shown as text, and both main screens pass axe", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser);

  await page.goto(new URL("/login", center.ui).href);
  assert.equal(await page.getAttribute("html", "lang"), "ja");
  await checkAccessibility(page, "login");
  await screenshot(page, "login");

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
  await screenshot(page, "inbox");

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
