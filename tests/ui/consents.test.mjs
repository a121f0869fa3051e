// Browser test of the consent screens and the case view: the clinic's
// midwife opens a case, records a written consent through the form with a
// PDF scan, reads its scope, downloads the scan, opens the printable
// summary; a referral relying on it goes to the center; she withdraws it,
// and the next referral relying on it is refused with the reason; the case
// view shows consent, referral and withdrawal in order. axe-core checks
// every screen; screenshots go to docs/screenshots/.
//
// Run: cargo build && (cd tests/ui && node --test consents.test.mjs)

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

// The example referral as a file the CLI sends, dated today.
function referralFile() {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const due = new Date(today.getTime() + (40 - 12) * 7 * 86_400_000);
  const form = readFileSync(join(root, "examples", "referral.toml"), "utf8")
    .replace(/due_date = \S+/, `due_date = ${iso(due)}`)
    .replace(/taken_on = \S+/, `taken_on = ${iso(today)}`)
    .replace(/birth_date = (\d{4})\S+/, "birth_date = $1-01-15");
  const file = join(mkdtempSync(join(tmpdir(), "tsunagu-ui-")), "referral.toml");
  writeFileSync(file, form);
  return file;
}

// The clinic sends the referral under the consent: the CLI's JSON, or the
// refusal it printed.
async function sendUnderConsent(clinic, caseId, consentId) {
  const args = [
    "send", "--to", "minato-center", "--case", caseId,
    "--basis", "consent", "--consent-id", consentId,
    "--file", referralFile(), "--json",
  ];
  try {
    return { sent: await cli(clinic, args, "助産師") };
  } catch (e) {
    return { refused: `${e.stderr}${e.stdout}` };
  }
}

test("a written consent is recorded with its scan, printed, withdrawn, and then blocks the referral that relied on it", async () => {
  const clinic = demo.agency("sakura-clinic");
  // The form sent without its scan answers 422, as it should.
  const refused = (x) => (typeof x.status === "function" ? x.status() === 422 : /422/.test(x.text()));
  const { context, page, problems } = await openPage(demo.browser, { allow: refused });
  const { case_id: caseId } = await cli(clinic, ["case-open", "--json"], "助産師");
  assert.ok(caseId);

  await login(page, clinic);
  await page.goto(new URL(`/consents/new?case=${caseId}`, clinic.ui).href);
  await page.getByRole("heading", { name: "同意を記録する" }).waitFor();
  assert.equal(await page.getByLabel("ケースID（必須）").inputValue(), caseId);
  await checkAccessibility(page, "consent form");

  // Sent without a scan first: the fault is shown at its field.
  await page.getByLabel("同意した人の氏名（必須）").fill("山田 花子");
  await page.getByRole("button", { name: "同意を記録する", exact: true }).click();
  const fault = "書面の場合は、署名された同意書のスキャン（PDF・PNG・JPEG）を添付してください。";
  // At the field, and in the list at the top that links to it.
  await page.locator("#scan-error", { hasText: fault }).waitFor();
  await page.getByRole("alert").getByRole("link", { name: fault }).waitFor();
  assert.equal(await page.getByLabel("署名された同意書のスキャン（書面のとき必須）").getAttribute("aria-invalid"), "true");
  assert.equal(await page.getByLabel("同意した人の氏名（必須）").inputValue(), "山田 花子");
  await checkAccessibility(page, "consent form with a fault");
  await screenshot(page, "consent-new");

  const scan = Buffer.concat([Buffer.from("%PDF-1.7\n% 同意書\n"), Buffer.alloc(20_000, 0x30)]);
  await page.getByLabel("署名された同意書のスキャン（書面のとき必須）").setInputFiles({
    name: "doui.pdf", mimeType: "application/pdf", buffer: scan,
  });
  const recipients = page.getByRole("group", { name: /情報を共有してよい機関/ });
  await recipients.getByLabel("みなと市こども家庭センター").check();
  const categories = page.getByRole("group", { name: /共有してよい情報/ });
  for (const c of ["基本情報", "妊娠・医療", "精神保健", "家族・養育環境", "経済状況"]) {
    await categories.getByLabel(c).check();
  }
  await page.getByRole("group", { name: /利用目的/ }).getByLabel("ケース会議").check();
  const nextYear = `${new Date().getFullYear() + 1}-03-31`;
  await page.getByLabel("有効期限（任意）").fill(nextYear);
  await page.getByRole("group", { name: /同意の記録/ }).getByLabel("みなと市こども家庭センター").check();
  await page.getByLabel("メモ（任意）").fill("母子手帳交付時に書面で説明し、署名を得た");
  await Promise.all([
    page.waitForURL(/\/consents\/[0-9a-f-]+\?done=recorded$/),
    page.getByRole("button", { name: "同意を記録する", exact: true }).click(),
  ]);
  const consentId = new URL(page.url()).pathname.split("/")[2];

  await page.getByText("同意を記録しました。").waitFor();
  const [year] = nextYear.split("-");
  const sentence = `さくらレディースクリニックとみなと市こども家庭センターは、基本情報・妊娠・医療・精神保健・家族・養育環境・経済状況の情報を、紹介・情報提供・ケース会議のために、${year}年3月31日まで共有できます。`;
  await page.getByText(sentence).waitFor();
  await checkAccessibility(page, "consent");
  await screenshot(page, "consent");

  // The scan comes back byte for byte, as a download.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "同意書のスキャンをダウンロード" }).click(),
  ]);
  const saved = await download.path();
  assert.deepEqual(readFileSync(saved), scan);

  // The summary for her: large type, no menu when printed.
  await page.getByRole("link", { name: "本人向けの説明を印刷する" }).click();
  await page.getByRole("heading", { name: "情報共有への同意の内容" }).waitFor();
  await page.getByText("同意はいつでも撤回できます。").waitFor();
  await page.getByText(/さくらレディースクリニック（担当: /).waitFor();
  await checkAccessibility(page, "printable summary");
  await screenshot(page, "consent-print");
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.getByRole("button", { name: "印刷する" }).isVisible(), false);
  await page.emulateMedia({ media: "screen" });

  // A referral relying on it reaches the center.
  const first = await sendUnderConsent(clinic, caseId, consentId);
  assert.ok(first.sent?.envelope_id, JSON.stringify(first));

  // She withdraws; the form wants her words and a confirmation.
  await page.goto(new URL(`/consents/${consentId}`, clinic.ui).href);
  await page.getByLabel("撤回の申し出の内容（必須）").fill("本人から電話で、センターへの提供をやめてほしいと申し出があった");
  await page.getByLabel(/この同意を撤回します/).check();
  await Promise.all([
    page.waitForURL(/\?done=withdrawn$/),
    page.getByRole("button", { name: "撤回を記録する" }).click(),
  ]);
  await page.getByText("撤回を記録しました。").waitFor();
  await page.getByRole("heading", { name: /撤回済み/ }).waitFor();

  // The next referral relying on it is refused, with the reason.
  const second = await sendUnderConsent(clinic, caseId, consentId);
  assert.ok(second.refused, JSON.stringify(second));
  assert.match(second.refused, /撤回/);

  await page.goto(new URL("/consents", clinic.ui).href);
  await page.getByRole("link", { name: /撤回済み|\d{4}-\d{2}-\d{2}/ }).first().waitFor();
  await checkAccessibility(page, "consents");
  await screenshot(page, "consents");

  // The case view: consent, referral, withdrawal, in that order.
  await page.goto(new URL("/cases", clinic.ui).href);
  await checkAccessibility(page, "cases");
  await screenshot(page, "cases");
  await page.getByRole("link", { name: caseId }).click();
  await page.getByRole("heading", { name: `ケース ${caseId}` }).waitFor();
  const steps = await page.locator("ol.case-timeline > li .what").allInnerTexts();
  const index = (re) => steps.findIndex((s) => re.test(s));
  const recorded = index(/^同意の記録/);
  const referred = index(/^紹介/);
  const withdrawn = index(/^同意の撤回/);
  assert.ok(recorded >= 0 && referred > recorded && withdrawn > referred, steps.join(" | "));
  const record = await page.locator("table.disclosures").innerText();
  assert.match(record, /みなと市こども家庭センター/);
  assert.match(record, /本人同意/);
  await checkAccessibility(page, "case");
  await screenshot(page, "case");

  assert.deepEqual(problems, []);
  await context.close();
});
