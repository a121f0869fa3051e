// Browser test of the 支援台帳 import on the demo's center node: the sample
// workbook (examples/support-ledger.xlsx) uploaded through the page, its
// mapping and dry run shown, imported on confirmation, and the rows read
// back through the CLI's export; a file with an impossible date refused
// with its row and column. axe-core checks each screen; screenshots go to
// docs/screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { root, bin, startDemo, stopDemo, openPage, login, checkAccessibility, screenshot } from "./lib.mjs";

const execFileAsync = promisify(execFile);

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

// `agency support-ledger <command> --config …`: the config belongs to the
// subcommand, after its name.
async function supportLedger(agency, command, args) {
  const { stdout } = await execFileAsync(
    bin,
    ["agency", "support-ledger", command, "--config", agency.config, ...args],
    { cwd: root, env: { ...process.env, TSUNAGU_LANG: "ja" } },
  );
  return JSON.parse(stdout);
}

const count = (page, name) => page.locator(`[data-count="${name}"]`).first().textContent();

test("the center imports the sample workbook through the page and sees the rows", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser);
  await login(page, center);

  await page.goto(new URL("/support/import", center.ui).href);
  await page.getByRole("heading", { name: "支援台帳の取り込み（Excel・CSV）" }).waitFor();
  await checkAccessibility(page, "support import");
  await screenshot(page, "support-import");

  await page.getByLabel("台帳ファイル（.xlsx または .csv、50 MB まで）").setInputFiles(join(root, "examples", "support-ledger.xlsx"));
  await page.getByRole("button", { name: "内容を確認する" }).click();
  await page.getByRole("heading", { name: "取り込みの確認" }).waitFor();
  const planned = Number(await count(page, "new"));
  assert.ok(planned >= 30, `new rows: ${planned}`);
  assert.equal(await count(page, "refused"), "0");
  // The unknown column is shown as not imported.
  assert.equal(await page.getByRole("combobox", { name: "備考" }).inputValue(), "ignore");
  await checkAccessibility(page, "support import plan");
  await screenshot(page, "support-import-plan");

  await page.getByRole("button", { name: "取り込む", exact: true }).click();
  await page.getByRole("heading", { name: "支援台帳に取り込みました" }).waitFor();
  assert.equal(Number(await count(page, "added")), planned);
  await checkAccessibility(page, "support import done");
  await screenshot(page, "support-import-done");

  const out = join(mkdtempSync(join(tmpdir(), "tsunagu-si-")), "ledger.xlsx");
  const exported = await supportLedger(center, "export", ["--out", out, "--json"]);
  assert.equal(exported.rows, planned);
  assert.ok(exported.contacts >= 8, JSON.stringify(exported));

  assert.deepEqual(problems, []);
  await context.close();
});

test("a file with an impossible date is refused by row and column, and nothing is imported", async () => {
  const center = demo.agency("minato-center");
  const before = await supportLedger(center, "export", ["--out", join(mkdtempSync(join(tmpdir(), "tsunagu-si-")), "a.csv"), "--json"]);
  const { context, page, problems } = await openPage(demo.browser);
  await login(page, center);
  await page.goto(new URL("/support/import", center.ui).href);
  const csv = "台帳番号,対象,氏名,分娩予定日,支援区分\r\nX-1,妊婦,見本 花子,2026-02-30,自立\r\n";
  await page.getByLabel("台帳ファイル（.xlsx または .csv、50 MB まで）").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "内容を確認する" }).click();
  await page.getByRole("heading", { name: "取り込みの確認" }).waitFor();
  await page.getByText("2行目 列「分娩予定日」: 「2026-02-30」は存在しない日付です").waitFor();
  assert.equal(await page.getByRole("button", { name: "取り込む", exact: true }).count(), 0);
  await checkAccessibility(page, "support import refused");
  await screenshot(page, "support-import-refused");
  const after = await supportLedger(center, "export", ["--out", join(mkdtempSync(join(tmpdir(), "tsunagu-si-")), "b.csv"), "--json"]);
  assert.equal(after.rows, before.rows);
  assert.deepEqual(problems, []);
  await context.close();
});
