// Readable at 200 % zoom (WCAG 2.2, 1.4.4 and 1.4.10): a 1280-pixel screen
// at 200 % lays pages out 640 CSS pixels wide. Every main screen must then
// fit that width with no sideways scrolling of the page itself; a wide data
// table may scroll inside its own box (1.4.10 lets tables keep their two
// dimensions), and the section menu stays reachable.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDemo, stopDemo, openPage, login } from "./lib.mjs";

let demo;
before(async () => {
  demo = await startDemo();
});
after(async () => {
  await stopDemo(demo);
});

const SCREENS = ["/", "/compose", "/sent", "/cases", "/consents", "/consents/new", "/meetings", "/meetings/new", "/plans", "/plans/new"];

test("every main screen reflows to 640 CSS pixels (200 % zoom) without sideways scrolling", async () => {
  const center = demo.agency("minato-center");
  const { context, page, problems } = await openPage(demo.browser);
  await page.setViewportSize({ width: 640, height: 800 });
  await login(page, center);
  const overflowing = [];
  for (const path of SCREENS) {
    await page.goto(new URL(path, center.ui).href);
    await page.locator("main h1").first().waitFor();
    const { page: wide, widest } = await page.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      // What sticks out, for the failure message: the widest element that
      // is not inside a scrolling table box.
      let widest = "";
      let most = limit;
      for (const el of document.querySelectorAll("body *")) {
        if (el.closest(".table-wrap")) continue;
        const right = el.getBoundingClientRect().right;
        if (right > most + 1) {
          most = right;
          widest = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + String(el.className).split(" ").join(".") : ""} (${Math.round(right)} px)`;
        }
      }
      return { page: document.documentElement.scrollWidth > limit + 1, widest };
    });
    if (wide) overflowing.push(`${path}: ${widest}`);
  }
  assert.deepEqual(overflowing, [], "pages that scroll sideways at 200 % zoom");
  // The section menu wraps instead of hiding its links.
  await page.goto(new URL("/", center.ui).href);
  for (const name of ["受信箱", "連絡票を作成", "ケース", "会議", "支援計画"]) {
    assert.ok(await page.getByRole("link", { name, exact: true }).first().isVisible(), `${name} is not visible`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});
