// Browser tests of the inbox: the center's staff member signs in and keeps
// the inbox open; the clinic sends an urgent referral through the CLI; the
// row appears without a reload, its markup shown as text. Then the filters,
// a hub notice arriving live, the 受理 deadline counting down, the clinic's
// open record page showing 受理 without a reload, and the sent items.
// axe-core checks each screen; screenshots go to docs/screenshots/.
//
// Run: npm ci && npm test (TSUNAGU_BIN names the binary; default
// ../../target/debug/tsunagu, which `cargo test` builds).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, startDemo, stopDemo, openPage, login, freshCode, checkAccessibility, screenshot, cli } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

// The clinic sends an urgent referral through the CLI, its findings full of
// markup; returns the envelope id.
async function clinicSendsReferral(findings, { caseId, basis = ["--basis", "provision-to-municipality"] } = {}) {
  const clinic = demo.agency("sakura-clinic");
  if (!caseId) {
    const opened = await cli(clinic, ["case-open", "--json"], "助産師");
    caseId = opened.case_id;
    assert.ok(caseId, JSON.stringify(opened));
  }
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
      "--case", caseId, ...basis,
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
  await page.getByLabel("確認コード").fill(await freshCode(center.staff));
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

test("filters survive a reload, a notice arrives live, the deadline counts down, the sender's open record shows 受理, sent items", async () => {
  const center = demo.agency("minato-center");
  const clinic = demo.agency("sakura-clinic");
  const inbox = await openPage(demo.browser);
  await login(inbox.page, center);
  await inbox.page.getByText("新着は自動で表示されます。").waitFor();

  // A referral under her consent, urgent.
  const opened = await cli(clinic, ["case-open", "--json"], "助産師");
  const caseId = opened.case_id;
  const recorded = await cli(clinic, [
    "consent-record", "--case", caseId, "--to", "minato-center",
    "--recipients", "minato-center",
    "--categories", "basic,pregnancy-medical,mental-health,family",
    "--method", "oral", "--given-by-name", "山田 花子", "--json",
  ], "助産師");
  const consentId = recorded.consent_id;
  assert.ok(consentId, JSON.stringify(recorded));
  const sent = await clinicSendsReferral("所見", { caseId, basis: ["--basis", "consent", "--consent-id", consentId] });
  const id = sent.id ?? sent.envelope_id;
  const row = inbox.page.locator(`#inbox-rows tr:has(a[href="/envelopes/${id}"])`);
  await row.waitFor({ timeout: 20_000 });
  assert.match(await row.innerText(), /未読/);
  assert.match(await row.innerText(), /受理期限（目安）/);
  assert.match(await row.locator("time.countdown").innerText(), /^あと(59|60|58)分$/);

  // The filters are links: 受理待ち survives a reload and keeps the row.
  await inbox.page.getByRole("link", { name: /^受理待ち/ }).click();
  await inbox.page.waitForURL(/\?filter=awaiting/);
  await inbox.page.reload();
  await row.waitFor();
  assert.equal(await inbox.page.getByRole("link", { name: /^受理待ち/ }).getAttribute("aria-current"), "page");
  await checkAccessibility(inbox.page, "inbox filtered");
  await inbox.page.getByRole("link", { name: /^対応中/ }).click();
  await inbox.page.waitForURL(/\?filter=in_progress/);
  assert.equal(await row.count(), 0, "not in progress yet");
  await inbox.page.getByLabel("ケースで絞り込む").selectOption(caseId);
  await inbox.page.getByRole("button", { name: "表示" }).click();
  await inbox.page.waitForURL(new RegExp(`case=${caseId}`));
  assert.match(inbox.page.url(), /filter=in_progress/, "the case form keeps the filter");

  // The clinic keeps the referral's page open.
  const record = await openPage(demo.browser);
  await login(record.page, clinic);
  await record.page.goto(new URL(`/envelopes/${id}`, clinic.ui).href);
  const states = record.page.locator("table.states tbody");
  assert.match(await states.innerText(), /送付済み（未受理）/);
  await record.page.evaluate(() => { window.stillTheSamePage = true; });

  // The center records 受理 from its own page.
  await inbox.page.goto(new URL(`/envelopes/${id}`, center.ui).href);
  await Promise.all([
    inbox.page.waitForURL(/done=received/),
    inbox.page.getByRole("button", { name: "受理", exact: true }).click(),
  ]);
  await record.page.waitForFunction(
    () => document.querySelector("table.states tbody")?.innerText.includes("受理"),
    null,
    { timeout: 20_000 },
  );
  assert.equal(await record.page.evaluate(() => window.stillTheSamePage), true, "the page was reloaded");

  // The center's inbox: the referral is 対応中; a second urgent one awaits 受理.
  await inbox.page.goto(new URL("/?filter=in_progress", center.ui).href);
  await row.waitFor();
  await inbox.page.goto(new URL("/", center.ui).href);
  await inbox.page.getByText("新着は自動で表示されます。").waitFor();
  await clinicSendsReferral("再度のご連絡です。");
  // She withdraws her consent at the clinic: the center is told live.
  await cli(clinic, ["consent-withdraw", "--case", caseId, "--consent-id", consentId, "--note", "本人より撤回の申し出"], "助産師");
  await inbox.page.locator("#inbox-notices li", { hasText: "同意の撤回" }).waitFor({ timeout: 20_000 });
  await inbox.page.locator("#inbox-rows time.countdown").first().waitFor();
  await checkAccessibility(inbox.page, "inbox with a notice");
  await screenshot(inbox.page, "inbox");

  // The clinic's sent items: to whom by name, and its state there.
  await record.page.getByRole("navigation", { name: "業務メニュー" }).getByRole("link", { name: "送信済み" }).click();
  await record.page.getByRole("heading", { name: "送信済み" }).waitFor();
  const sentRow = record.page.locator(`tr:has(a[href="/envelopes/${id}"])`);
  assert.match(await sentRow.innerText(), /みなと市こども家庭センター: 受理/);
  await checkAccessibility(record.page, "sent");
  await screenshot(record.page, "sent");

  assert.deepEqual(inbox.problems, []);
  assert.deepEqual(record.problems, []);
  await inbox.context.close();
  await record.context.close();
});
