// Browser tests of the administration screens: an administrator adds a
// member (their QR code and recovery codes shown once), a weak password is
// refused at its field, disabling a member sends their open inbox to the
// login page with the reason, and the access log is filtered and exported
// as CSV. axe-core on each screen; screenshots docs/screenshots/admin*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startDemo, stopDemo, openPage, login, checkAccessibility, screenshot } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

const refusedAllowed = (x) =>
  typeof x.status === "function" ? [403, 422].includes(x.status()) : /40[3]|422/.test(x.text());

test("an administrator adds a member, who is shown their QR code once; a weak password is refused at its field", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser, { allow: refusedAllowed });
  await login(page, center, center.admin);
  await page.getByRole("navigation", { name: "業務メニュー" }).getByRole("link", { name: "管理", exact: true }).click();
  await page.getByRole("heading", { name: "職員の管理" }).waitFor();
  const list = await page.locator("table.admin-staff").innerText();
  assert.match(list, new RegExp(center.staff.name));
  assert.match(list, /保健師/);
  assert.match(list, /管理者/);
  await checkAccessibility(page, "admin");

  const add = page.locator("form.admin-add");
  await add.getByLabel("氏名（ログイン名）").fill("鈴木 花子");
  await add.getByLabel("職種").selectOption({ label: "事務" });
  await add.getByLabel("連絡先（電話・内線）").fill("内線 120");
  await add.getByLabel("初期パスワード").fill("password2026!");
  await add.getByRole("button", { name: "追加する" }).click();
  const error = page.locator("#new-password-error");
  await error.waitFor();
  assert.match(await error.innerText(), /よく使われるパスワード/);
  assert.equal(await page.getByLabel("初期パスワード").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("氏名（ログイン名）").inputValue(), "鈴木 花子", "the name is kept");
  await checkAccessibility(page, "admin with a refused field");

  await page.getByLabel("初期パスワード").fill("春の川に桜の花びらが流れる");
  await page.getByRole("button", { name: "追加する" }).click();
  await page.getByRole("heading", { name: /二要素認証の登録: 鈴木 花子/ }).waitFor();
  const qr = page.getByRole("img", { name: "認証アプリ用のQRコード" });
  assert.ok(await qr.isVisible());
  assert.equal(await page.locator("ol.codes li").count(), 10);
  await checkAccessibility(page, "enrolment");
  await screenshot(page, "admin-enrolment");

  await page.getByRole("link", { name: /職員一覧へ戻る/ }).click();
  await page.getByRole("cell", { name: "事務" }).first().waitFor();
  await screenshot(page, "admin");
  assert.deepEqual(problems, []);
  await context.close();
});

test("disabling a member sends their open inbox to the login page with the reason", async () => {
  const clinic = demo.agency("sakura-clinic");
  const member = await openPage(demo.browser);
  await login(member.page, clinic);
  await member.page.getByText("新着は自動で表示されます。").waitFor();

  const admin = await openPage(demo.browser);
  await login(admin.page, clinic, clinic.admin);
  await admin.page.goto(new URL("/admin", clinic.ui).href);
  await Promise.all([
    admin.page.waitForURL(/\/admin\?done=disabled/),
    admin.page.getByRole("button", { name: `${clinic.staff.name} を無効にする` }).click(),
  ]);
  await admin.page.getByText(`${clinic.staff.name}を無効にしました。`).waitFor();

  // The open inbox is told by its live stream (checked every 30 s at most).
  await member.page.waitForURL(/\/login\?ended=ended$/, { timeout: 45_000 });
  await member.page.getByText(/ログインが終了しました/).waitFor();

  // Enabled again, for the other tests.
  await admin.page.getByRole("button", { name: `${clinic.staff.name} を有効にする` }).click();
  await admin.page.getByText(`${clinic.staff.name}を有効にしました。`).waitFor();
  assert.deepEqual(member.problems, []);
  assert.deepEqual(admin.problems, []);
  await member.context.close();
  await admin.context.close();
});

test("the access log is filtered by person and exported as CSV; staff who are not administrators are refused", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser, { allow: refusedAllowed });
  await login(page, center, center.admin);
  await page.goto(new URL("/admin/access-log", center.ui).href);
  await page.getByRole("heading", { name: "閲覧記録" }).waitFor();
  await checkAccessibility(page, "access log");
  await page.getByLabel("職員").selectOption({ label: center.admin.name });
  await Promise.all([page.waitForURL(/who=/), page.getByRole("button", { name: "絞り込む" }).click()]);
  const rows = await page.locator("table.inbox tbody").innerText();
  assert.match(rows, /閲覧記録/, "reading the log is itself logged");
  assert.ok(!rows.includes(center.staff.name), rows);
  await page.getByLabel("開始日").fill("2026-04-02");
  await page.getByLabel("終了日").fill("2026-04-01");
  await page.getByRole("button", { name: "絞り込む" }).click();
  await page.getByText("終了日は開始日と同じか、それより後の日にしてください。").waitFor();
  await page.getByRole("link", { name: "条件を消す" }).click();
  await screenshot(page, "access-log");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: /CSVで書き出す/ }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^access-log-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\ufeffseq,at,staff_id,staff_name"), csv.slice(0, 80));
  assert.ok(csv.includes(center.admin.name), csv);

  // A member of staff who is not an administrator.
  const nurse = await openPage(demo.browser, { allow: refusedAllowed });
  await login(nurse.page, center);
  const refused = await nurse.page.goto(new URL("/admin", center.ui).href);
  assert.equal(refused.status(), 403);
  await nurse.page.getByRole("heading", { name: "管理者だけが使える画面です" }).waitFor();
  await nurse.context.close();
  assert.deepEqual(problems, []);
  await context.close();
});
