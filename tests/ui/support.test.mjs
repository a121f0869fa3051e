// Browser tests of the 支援台帳 on the center's node: rows added through the
// form, the morning list filtered by 担当地区 and by due day, a contact
// recorded from the list in two clicks that moves the next contact, and a
// clinic's referral that appears in 「台帳にない連絡票」 and becomes a row
// linked to its case. axe-core checks each page; screenshots go to
// docs/screenshots/support-*.png.

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

// The day in Japan, as the node counts days.
const jstDay = (offsetDays = 0) =>
  new Date(Date.now() + 9 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);

// Add a pregnant woman's row through the form; lands on the row's page.
async function addRow(page, ui, { number, name, district, tier, notified }) {
  await page.goto(new URL("/support/new", ui).href);
  await page.locator("#f-number").fill(number);
  await page.locator("#f-name").fill(name);
  await page.getByLabel("生年月日").fill("1996-05-01");
  await page.getByLabel("担当地区").fill(district);
  await page.getByLabel("担当保健師").fill("高橋 由美");
  await page.locator("#f-tier").selectOption(tier);
  if (notified) await page.getByLabel("妊娠届出日").fill(notified);
  await Promise.all([
    page.waitForURL(/\/support\/[^/]+\?done=added$/),
    page.getByRole("button", { name: "保存する" }).click(),
  ]);
  await page.getByText("行を追加しました。").waitFor();
}

test("the morning list filters by district and due, and a contact in two clicks moves the next contact", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser);
  await login(page, center);
  await page.getByRole("navigation", { name: "業務メニュー" }).getByRole("link", { name: "支援台帳" }).click();
  await page.getByRole("heading", { name: "支援台帳", level: 1 }).waitFor();

  // The form, checked once empty.
  await page.goto(new URL("/support/new", center.ui).href);
  await checkAccessibility(page, "support form");
  await addRow(page, center.ui, { number: "R-001", name: "青木 明子", district: "東地区", tier: "specified", notified: jstDay(-40) });
  await checkAccessibility(page, "support row");
  await addRow(page, center.ui, { number: "R-002", name: "井上 恵", district: "西地区", tier: "independent" });
  // 自立 with no contact point scheduled yet: nothing is due.
  await addRow(page, center.ui, { number: "R-003", name: "上田 由紀", district: "東地区", tier: "independent" });

  // 担当地区: only the east's rows; the filter survives a reload.
  await page.goto(new URL("/support", center.ui).href);
  await page.getByLabel("担当地区").selectOption("東地区");
  await Promise.all([page.waitForURL(/district=/), page.getByRole("button", { name: "絞り込む" }).click()]);
  await page.reload();
  const table = page.locator("table.sl-list");
  assert.equal(await table.getByRole("link", { name: "青木 明子" }).count(), 1);
  assert.equal(await table.getByRole("link", { name: "上田 由紀" }).count(), 1);
  assert.equal(await table.getByRole("link", { name: "井上 恵" }).count(), 0);
  assert.equal(await page.getByLabel("担当地区").inputValue(), "東地区");

  // Due by today: 青木 (a month after her notification, overdue) only.
  await page.getByLabel("今日まで（超過を含む）").check();
  await Promise.all([page.waitForURL(/due=today/), page.getByRole("button", { name: "絞り込む" }).click()]);
  const row = table.getByRole("row", { name: /青木 明子/ });
  assert.equal(await table.getByRole("link", { name: "上田 由紀" }).count(), 0);
  assert.match(await row.innerText(), /日超過/);
  assert.match(await row.innerText(), /特定妊婦・要支援・要保護: 最終接触から1か月/);
  await checkAccessibility(page, "support morning list");

  // Two clicks: open 接触を記録 on her row, submit (電話, today, the
  // signed-in member are the defaults).
  await row.getByText("接触を記録").click();
  assert.equal(await row.getByLabel("種別").inputValue(), "phone");
  assert.equal(await row.getByLabel("対応者").inputValue(), center.staff.name);
  await Promise.all([page.waitForURL(/done=contact/), row.getByRole("button", { name: "記録する" }).click()]);
  await page.getByText("R-001 青木 明子 の接触を記録しました").waitFor();
  // Back on the same filtered list, where she is no longer due.
  assert.match(page.url(), /due=today/);
  assert.match(page.url(), /district=/);
  assert.equal(await table.getByRole("link", { name: "青木 明子" }).count(), 0);

  // Her row: the last contact today, the next a month on, by the same rule.
  await page.goto(new URL("/support?district=%E6%9D%B1%E5%9C%B0%E5%8C%BA", center.ui).href);
  const moved = page.locator("table.sl-list").getByRole("row", { name: /青木 明子/ });
  assert.doesNotMatch(await moved.innerText(), /超過/);
  await moved.getByRole("link", { name: "青木 明子" }).click();
  await page.getByRole("heading", { name: "R-001 青木 明子" }).waitFor();
  const computed = await page.locator("dl.sl-computed").innerText();
  assert.match(computed, new RegExp(`最終接触日\\s+${jstDay()}`));
  assert.match(computed, /根拠: 特定妊婦・要支援・要保護: 最終接触から1か月/);
  assert.deepEqual(problems, []);
  await context.close();
});

// The clinic sends a referral through the CLI, as the inbox tests do.
async function clinicSendsReferral() {
  const clinic = demo.agency("sakura-clinic");
  const { case_id: caseId } = await cli(clinic, ["case-open", "--json"], "助産師");
  const form = readFileSync(join(root, "examples", "referral.toml"), "utf8")
    .replace(/due_date = \S+/, `due_date = ${jstDay((40 - 12) * 7)}`)
    .replace(/taken_on = \S+/, `taken_on = ${jstDay()}`)
    .replace(/birth_date = (\d{4})\S+/, "birth_date = $1-01-15");
  const dir = mkdtempSync(join(tmpdir(), "tsunagu-ui-"));
  const file = join(dir, "referral.toml");
  writeFileSync(file, form);
  await cli(
    clinic,
    [
      "send", "--to", "minato-center", "--case", caseId,
      "--basis", "provision-to-municipality",
      "--justification", "特定妊婦と思われ、早期の支援が必要なため",
      "--file", file, "--json",
    ],
    "助産師",
  );
  return caseId;
}

// The form saved without a number answers 422, which the test expects.
const refusedForm = (x) =>
  typeof x.status === "function" ? x.status() === 422 : /status of 422/.test(x.text());

test("a clinic referral not on the ledger appears on the morning list and becomes a row linked to its case", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser, { allow: refusedForm });
  await login(page, center);
  // A row whose monthly contact is overdue, for the picture of the list.
  await addRow(page, center.ui, { number: "R-004", name: "小林 舞", district: "北地区", tier: "specified", notified: jstDay(-45) });
  await page.goto(new URL("/", center.ui).href);
  // The inbox shows it live: then the node holds it.
  const caseId = await clinicSendsReferral();
  await page.locator("#inbox-rows").getByText(caseId).first().waitFor();

  await page.goto(new URL("/support", center.ui).href);
  const panel = page.locator("ul.sl-unlinked > li").filter({ hasText: "山田 花子" });
  await page.getByRole("heading", { name: "台帳にない連絡票（1件）" }).waitFor();
  const text = await panel.innerText();
  assert.match(text, /さくらレディースクリニック/);
  assert.match(text, /妊娠中/);
  assert.match(text, new RegExp(caseId));
  await screenshot(page, "support-morning");

  await panel.getByRole("link", { name: /新しい行として追加/ }).click();
  await page.getByText("連絡票から作成します").waitFor();
  assert.equal(await page.locator("#f-name").inputValue(), "山田 花子");
  // Saved without a number: refused at the field, what was copied kept.
  await page.getByRole("button", { name: "保存する" }).click();
  await page.getByRole("heading", { name: /保存していません/ }).waitFor();
  assert.equal(await page.locator("#f-number").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#f-name").inputValue(), "山田 花子");
  await checkAccessibility(page, "support form with problems");
  await screenshot(page, "support-form");
  await page.locator("#f-number").fill("R-100");
  await page.locator("#f-district").fill("南地区");
  await Promise.all([
    page.waitForURL(/\/support\/[^/]+\?done=added$/),
    page.getByRole("button", { name: "保存する" }).click(),
  ]);
  await page.getByRole("heading", { name: "R-100 山田 花子" }).waitFor();
  await page.locator(`section.sl-case a[href="/cases/${caseId}"]`).waitFor();
  assert.match(await page.locator("section.sl-case").innerText(), /さくらレディースクリニック/);
  await checkAccessibility(page, "support row with a case");
  await screenshot(page, "support-row");

  await page.goto(new URL("/support", center.ui).href);
  await page.getByRole("heading", { name: "台帳にない連絡票（0件）" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
