// Browser test of the meeting, plan and ledger screens: the center
// schedules a meeting inviting child welfare; child welfare's member
// answers 出席 and the center's open meeting page shows it without a
// reload; the center tries the minutes (the demo hub runs on the real
// clock, so a meeting still to come is refused, and the page says why —
// the Rust e2e test records them on a moved clock); the center records a
// plan, revises it and reads the diff; the 調整機関's member sees the
// ledger and downloads its CSV. axe on each main screen; screenshots to
// docs/screenshots/. Cases, consent and the referral are set up through
// the CLI, as docs/meetings-and-plans.md does.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root, startDemo, stopDemo, openPage, login, checkAccessibility, screenshot, cli } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

const iso = (d) => d.toISOString().slice(0, 10);

// The clinic opens a case, records her consent (center and child welfare;
// referral, case meetings, support plans) and refers her to both; the
// 調整機関 registers the case. Returns { caseId, consentId }.
async function referredCase() {
  const clinic = demo.agency("sakura-clinic");
  const { case_id: caseId } = await cli(clinic, ["case-open", "--json"], "助産師");
  const consent = await cli(clinic, [
    "consent-record", "--case", caseId,
    "--recipients", "minato-center", "--recipient-kinds", "child-welfare",
    "--categories", "basic,pregnancy-medical,mental-health,family",
    "--purposes", "referral,case-meeting,support-plan",
    "--given-by", "person", "--given-by-name", "山田 花子", "--method", "oral", "--decision", "granted",
    "--json",
  ], "助産師");
  const consentId = consent.consent_id;
  assert.ok(consentId, JSON.stringify(consent));
  const today = new Date();
  const due = new Date(today.getTime() + 28 * 7 * 86_400_000);
  const form = readFileSync(join(root, "examples", "referral.toml"), "utf8")
    .replace(/due_date = \S+/, `due_date = ${iso(due)}`)
    .replace(/taken_on = \S+/, `taken_on = ${iso(today)}`)
    .replace(/birth_date = (\d{4})\S+/, "birth_date = $1-01-15");
  const file = join(mkdtempSync(join(tmpdir(), "tsunagu-ui-")), "referral.toml");
  writeFileSync(file, form);
  await cli(clinic, [
    "send", "--to", "minato-center,minato-child-welfare", "--urgency", "early",
    "--case", caseId, "--basis", "consent", "--consent-id", consentId, "--purpose", "referral",
    "--file", file, "--json",
  ], "助産師");
  await cli(demo.agency("minato-yotaikyo"), [
    "case", "--case", caseId, "--classification", "specified-expectant-mother",
    "--lead", "minato-center", "--members", "minato-center,minato-child-welfare,hikari-nursery",
    "--note", "特定妊婦として登録",
  ]);
  return { caseId, consentId };
}

// Tomorrow 10:00 JST as a datetime-local value.
function tomorrowAtTen() {
  const jst = new Date(Date.now() + 9 * 3_600_000 + 86_400_000);
  return `${iso(jst)}T10:00`;
}

test("a meeting is scheduled and answered live, a plan revised and compared, the ledger exported", async () => {
  const { caseId, consentId } = await referredCase();
  const center = demo.agency("minato-center");
  const welfare = demo.agency("minato-child-welfare");
  // Expected refusals: the minutes of a meeting to come (422) and the
  // ledger on a node that is not the 調整機関's (403).
  const expected = (r) => [403, 422].includes(r.status?.()) || /status of (403|422)/.test(r.text?.() ?? "");
  const centerPage = await openPage(demo.browser, { allow: expected });
  const page = centerPage.page;
  await login(page, center);

  // Schedule: case, time, child welfare by name, category, consent.
  await page.goto(new URL("/meetings/new", center.ui).href);
  await checkAccessibility(page, "new meeting");
  await page.getByLabel("ケースID").fill(caseId);
  await page.getByLabel("開始日時（日本時間）").fill(tomorrowAtTen());
  await page.getByLabel("場所").fill("みなと市役所 3階 会議室B");
  await page.getByLabel("議題").fill("出産前後の支援体制と役割分担");
  await page.getByLabel("みなと市子ども家庭総合支援拠点", { exact: true }).check();
  await page.getByLabel("みなと市子ども家庭総合支援拠点: 依頼事項").fill("出産後の養育状況の見通しを報告");
  await page.getByLabel("基本情報").check();
  await page.getByLabel("同意ID（本人同意のとき）").fill(consentId);
  await Promise.all([
    page.waitForURL(/\/meetings\/[0-9a-f-]+\?done=scheduled$/),
    page.getByRole("button", { name: "案内を送る" }).click(),
  ]);
  await page.getByText("会議の案内を送りました。").waitFor();
  const meetingUrl = page.url().split("?")[0];
  await page.getByText("回答は自動で更新されます。").waitFor();
  await page.evaluate(() => { window.stillTheSamePage = true; });

  // Child welfare answers 出席 from its own page.
  const other = await openPage(demo.browser);
  await login(other.page, welfare);
  await other.page.goto(new URL(new URL(meetingUrl).pathname, welfare.ui).href);
  await other.page.getByLabel("出席", { exact: true }).check();
  await other.page.getByLabel("職種").fill("社会福祉士");
  await Promise.all([
    other.page.waitForURL(/done=answered/),
    other.page.getByRole("button", { name: "回答を送る" }).click(),
  ]);
  await other.page.getByText("出欠を回答しました。").waitFor();
  assert.deepEqual(other.problems, []);
  await other.context.close();

  // The center's page shows it, without a reload.
  await page.locator("#meeting-answers").getByText(`${welfare.staff.name}（社会福祉士）`).waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, "the page was reloaded");
  await checkAccessibility(page, "meeting");
  await screenshot(page, "meeting");

  // The minutes form; the hub refuses minutes before the meeting starts.
  await page.getByRole("link", { name: "会議録を作成して送る" }).click();
  await page.getByLabel("ケースの概要").fill("初産、支援者が少ない。");
  await page.getByLabel("決定事項（1行に1つ）").fill("センターが主担当として週1回訪問する");
  await page.getByLabel("みなと市子ども家庭総合支援拠点", { exact: true }).fill("出産後の養育状況を確認する");
  await page.locator("fieldset", { hasText: "会議録に含まれる本人の情報区分" }).getByLabel("基本情報").check();
  await page.getByLabel("同意ID（本人同意のとき）").fill(consentId);
  await checkAccessibility(page, "minutes form");
  await page.getByRole("button", { name: "会議録を送る" }).click();
  await page.getByText("会議の開始前には会議録を送れません").waitFor();

  // The list and the calendar of the meeting's month.
  await page.goto(new URL(`/meetings?month=${tomorrowAtTen().slice(0, 7)}`, center.ui).href);
  await page.locator("table.mt-calendar").getByRole("link", { name: /10:00 個別ケース検討会議/ }).waitFor();
  await page.getByRole("link", { name: "個別ケース検討会議" }).first().waitFor();
  assert.match(await page.locator("table.mt-list").first().innerText(), /出席 1・回答 1\/1/);
  await checkAccessibility(page, "meetings");
  await screenshot(page, "meetings");

  // A plan, version 1.
  await page.goto(new URL(`/plans/new?case=${caseId}`, center.ui).href);
  await page.getByLabel("本人の意向（本人の言葉で）").fill("赤ちゃんを元気に産みたい");
  await page.getByLabel("目標（1行に1つ）").fill("妊婦健診を毎回受ける\n夜間の相談先を知る");
  await page.getByLabel("支援内容 1", { exact: true }).fill("家庭訪問");
  await page.getByLabel("担当機関 1", { exact: true }).selectOption("minato-center");
  await page.getByLabel("頻度 1", { exact: true }).fill("週1回");
  await page.getByLabel("支援内容 2", { exact: true }).fill("養育状況の確認");
  await page.getByLabel("担当機関 2", { exact: true }).selectOption("minato-child-welfare");
  await page.getByLabel("頻度 2", { exact: true }).fill("月1回");
  await page.locator("fieldset", { hasText: "プランに含まれる本人の情報区分" }).getByLabel("基本情報").check();
  await page.getByLabel("みなと市子ども家庭総合支援拠点: 全体").check();
  await page.getByLabel("同意ID（本人同意のとき）").fill(consentId);
  await checkAccessibility(page, "new plan");
  await Promise.all([
    page.waitForURL(/version=1&done=recorded/),
    page.getByRole("button", { name: "版1を記録して送る" }).click(),
  ]);

  // Version 2 from the latest: one goal replaced, visits more often.
  await page.getByLabel("目標（1行に1つ）").fill("妊婦健診を毎回受ける\n産後の育児を分担する");
  await page.getByLabel("頻度 1", { exact: true }).fill("週2回");
  await page.getByLabel("同意ID（本人同意のとき）").fill(consentId);
  await Promise.all([
    page.waitForURL(/version=2&done=recorded/),
    page.getByRole("button", { name: "次の版を記録して送る" }).click(),
  ]);
  await page.getByText("この版を記録し、選んだ機関に送りました。").waitFor();
  await checkAccessibility(page, "plan");
  await screenshot(page, "plan");
  await page.getByRole("link", { name: "版の差分を見る" }).click();
  const diff = await page.locator("ul.mt-diff").innerText();
  assert.match(diff, /追加\s*目標: 産後の育児を分担する/);
  assert.match(diff, /削除\s*目標: 夜間の相談先を知る/);
  assert.match(diff, /変更\s*支援内容: .*週1回.* → .*週2回/);
  await checkAccessibility(page, "plan diff");
  await screenshot(page, "plan-diff");

  // The ledger is the 調整機関's: a clear 403 here.
  const refused = await page.goto(new URL("/ledger", center.ui).href);
  assert.equal(refused.status(), 403);
  await page.getByRole("heading", { name: "進行管理台帳は調整機関の台帳です" }).waitFor();
  assert.deepEqual(centerPage.problems, []);
  await centerPage.context.close();

  // The 調整機関's member sees it and downloads the CSV.
  const yotaikyo = demo.agency("minato-yotaikyo");
  const ledger = await openPage(demo.browser);
  await login(ledger.page, yotaikyo);
  await ledger.page.goto(new URL("/ledger", yotaikyo.ui).href);
  await ledger.page.getByRole("link", { name: caseId }).first().waitFor();
  assert.match(await ledger.page.locator("table.mt-list").first().innerText(), /特定妊婦/);
  await checkAccessibility(ledger.page, "ledger");
  await screenshot(ledger.page, "ledger");
  const [download] = await Promise.all([
    ledger.page.waitForEvent("download"),
    ledger.page.getByRole("link", { name: "この一覧を CSV で書き出す（Excel 用）" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^ledger-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\ufeff"), "a BOM for Excel");
  assert.ok(csv.includes(caseId) && csv.includes("\r\n"), csv);
  assert.deepEqual(ledger.problems, []);
  await ledger.context.close();
});
