// Browser tests of signing in and out: password and TOTP; a wrong code
// refused with a clear message; a state change without its CSRF token
// refused; a session that idles out sends the open page to the login page,
// which says why (a demo whose idle timeout is seconds, so nothing sleeps:
// the test awaits the page's own navigation).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, stopDemo, openPage, login, totp, checkAccessibility } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

test("staff sign in with password and TOTP, and sign out", async () => {
  const clinic = demo.agency("sakura-clinic");
  const { context, page, problems } = await openPage(demo.browser);
  await login(page, clinic);
  assert.match(await page.locator(".who").innerText(), /佐藤 美咲/);
  await Promise.all([
    page.waitForURL(/\/login\?ended=logout$/),
    page.getByRole("button", { name: "ログアウト" }).click(),
  ]);
  await page.getByText("ログアウトしました。").waitFor();
  // Signed out: the inbox sends back to the login page.
  await page.goto(new URL("/", clinic.ui).href);
  assert.ok(new URL(page.url()).pathname === "/login", page.url());
  assert.deepEqual(problems, []);
  await context.close();
});

test("a wrong confirmation code is refused with a clear message, the name kept", async () => {
  const nursery = demo.agency("hikari-nursery");
  const { context, page, problems } = await openPage(demo.browser, {
    allow: (x) => (typeof x.status === "function" ? x.status() === 401 : x.text().includes("401")),
  });
  await page.goto(new URL("/login", nursery.ui).href);
  await page.getByLabel("氏名").fill(nursery.staff.name);
  await page.getByLabel("パスワード").fill(nursery.staff.password);
  const right = totp(nursery.staff.totp_secret);
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
  await page.getByLabel("確認コード").fill(wrong);
  await page.getByRole("button", { name: "ログイン" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal(await alert.innerText(), "氏名、パスワード、確認コードのいずれかが正しくありません。");
  assert.equal(new URL(page.url()).pathname, "/login");
  assert.equal(await page.getByLabel("氏名").inputValue(), nursery.staff.name);
  assert.equal(await page.getByLabel("パスワード").inputValue(), "", "the password is not kept");
  await checkAccessibility(page, "login with an error");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a state change without the form's CSRF token is refused and changes nothing", async () => {
  const welfare = demo.agency("minato-child-welfare");
  const { context, page, problems } = await openPage(demo.browser, {
    allow: (x) => (typeof x.status === "function" ? x.status() === 403 : x.text().includes("403")),
  });
  await login(page, welfare);
  const refused = await page.request.post(new URL("/logout", welfare.ui).href, {
    form: { other: "x" },
    maxRedirects: 0,
  });
  assert.equal(refused.status(), 403);
  assert.match(await refused.text(), /この操作は受け付けられません/);
  // Still signed in.
  await page.reload();
  await page.getByRole("heading", { name: "受信箱" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test("a session left idle sends its open page to the login page, which says why", async () => {
  // Its own demo: staff are signed out after 3 idle seconds.
  const idle = await startDemo({ args: ["--ui-idle-seconds", "3"] });
  try {
    const center = idle.agency("minato-center");
    const { context, page, problems } = await openPage(idle.browser);
    await page.goto(new URL("/login", center.ui).href);
    await page.getByLabel("氏名").fill(center.staff.name);
    await page.getByLabel("パスワード").fill(center.staff.password);
    await page.getByLabel("確認コード").fill(totp(center.staff.totp_secret));
    await page.getByRole("button", { name: "ログイン" }).click();
    // Whether the inbox opened first and was told by its live stream, or
    // the session had already idled out: the login page, with the reason.
    await page.waitForURL(/\/login\?ended=idle$/, { timeout: 30_000 });
    await page.getByText("一定時間操作がなかったため、ログアウトしました。").waitFor();
    await checkAccessibility(page, "login after idling out");
    // The old session is gone for good.
    await page.goto(new URL("/", center.ui).href);
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await stopDemo(idle);
  }
});
