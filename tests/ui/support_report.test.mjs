// Browser tests of 事業評価 (/support/report) on the demo's center: the
// indicators laid out as the PDCA 検証票 with the charts the node serves,
// a period that ends before it starts refused at its field, targets set
// from the form and judged (順調 / やや遅れ / 遅れ), and the page on another
// agency's node refused. axe-core checks each screen; the screenshot goes to
// docs/screenshots/support-report.png.
//
// Run: cargo build && (cd tests/ui && node --test support_report.test.mjs)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, stopDemo, openPage, login, checkAccessibility, screenshot } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

// Set one target through the page's form and land on the report again.
async function setTarget(page, indicator, value) {
  await page.getByLabel("指標", { exact: true }).selectOption({ label: indicator });
  await page.getByLabel("目標値", { exact: true }).fill(value);
  await Promise.all([
    page.waitForURL(/saved=1/),
    page.getByRole("button", { name: "目標値を保存" }).click(),
  ]);
  await page.getByText("目標値を保存しました。").waitFor();
}

test("the center reads its indicators with charts, sets targets and is told about a backward period", async () => {
  const center = demo.agency("minato-center");
  // The refused target and period answer 400, as they should.
  const refusedPeriod = (x) =>
    typeof x.status === "function" ? x.status() === 400 : x.text().includes("status of 400");
  const { context, page, problems } = await openPage(demo.browser, { allow: refusedPeriod });
  await login(page, center);

  await page.goto(new URL("/support/report", center.ui).href);
  await page.getByRole("heading", { name: "事業評価（指標）" }).waitFor();
  for (const h of ["アウトプット", "プロセス", "ストラクチャー", "アウトカム", "伴走型相談支援", "グラフ"]) {
    await page.getByRole("heading", { name: h, exact: true }).waitFor();
  }
  // The charts are served by the node and drawn (not broken images).
  const images = page.locator("figure.sr-figure img");
  assert.equal(await images.count(), 2);
  for (const img of await images.all()) {
    await img.scrollIntoViewIfNeeded();
    const width = await img.evaluate(async (el) => {
      await el.decode();
      return el.naturalWidth;
    });
    assert.ok(width > 0, "the chart is drawn");
  }

  // Targets from the form: every judgement appears.
  await setTarget(page, "アカウントのある職員", "1");
  await setTarget(page, "連携している機関", "5");
  await setTarget(page, "相談・接触件数", "120");
  const staffRow = page.locator("#ind-staff_accounts");
  await staffRow.getByText("順調").waitFor();
  await page.locator("#ind-agencies_connected").getByText("やや遅れ").waitFor();
  await page.locator("#ind-consultations").getByText("遅れ", { exact: true }).waitFor();
  await checkAccessibility(page, "support report");
  await screenshot(page, "support-report");

  // Printed, it is the verification sheet alone: no menus, no forms.
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("nav.sections").isVisible(), false);
  assert.equal(await page.getByRole("button", { name: "目標値を保存" }).isVisible(), false);
  assert.ok(await page.locator("#ind-staff_accounts").isVisible());
  await screenshot(page, "support-report-print");
  await page.emulateMedia({ media: "screen" });

  // A bad target: refused at its field, in Japanese.
  await page.getByLabel("目標値", { exact: true }).fill("たくさん");
  await page.getByRole("button", { name: "目標値を保存" }).click();
  await page.getByText("目標値「たくさん」は数値として読めません").waitFor();
  assert.equal(await page.getByLabel("目標値", { exact: true }).getAttribute("aria-invalid"), "true");

  // A period that ends before it starts: refused at the end day, nothing counted.
  await page.goto(new URL("/support/report", center.ui).href);
  await page.getByLabel("開始日").fill("2026-06-30");
  await page.getByLabel("終了日").fill("2026-04-01");
  await page.getByRole("button", { name: "集計する" }).click();
  await page.getByText("終了日（2026-04-01）が開始日（2026-06-30）より前です").waitFor();
  assert.equal(await page.getByLabel("終了日").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#ind-consultations").count(), 0);
  await checkAccessibility(page, "support report, bad period");
  await screenshot(page, "support-report-bad-period");

  assert.deepEqual(problems, []);
  await context.close();
});

test("another agency's node refuses the indicators, saying whose they are", async () => {
  const clinic = demo.agency("sakura-clinic");
  const { context, page } = await openPage(demo.browser, { allow: () => true });
  await login(page, clinic);
  const response = await page.goto(new URL("/support/report", clinic.ui).href);
  assert.equal(response.status(), 403);
  await page.getByText("支援台帳はこども家庭センターの台帳です").waitFor();
  await context.close();
});
