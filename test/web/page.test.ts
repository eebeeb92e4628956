import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildService } from "../../src/serve/app.js";
import { RatingsDb } from "../../src/serve/ratings-db.js";
import { tempDir } from "../helpers.js";
import { smallModelFile } from "../serve/fixture.js";

// The page in a real browser (Debian's chromium, driven by playwright-core) against the real service.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser)
  console.warn(`no browser at ${CHROMIUM}: the page tests are skipped (apt-get install chromium)`);

describe.skipIf(!haveBrowser)("the web page", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let db: RatingsDb;
  let browser: Browser;
  let page: Page;
  let url: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    // The lists are ranked by a top-N model (EASE), with a rating model's stars beside them.
    const modelFile = await smallModelFile(dir, 4, true);
    db = new RatingsDb(join(dir, "ratings.db"));
    ({ app } = await buildService({ modelFile, db }));
    url = await app.listen({ port: 0, host: "127.0.0.1" });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    db?.close();
    await cleanup?.();
  });

  /** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A and AA rules). */
  const accessibilityProblems = async () => {
    await page.addScriptTag({ path: AXE });
    return page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: {
            run: (
              o: object,
            ) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
          };
        }
      ).axe;
      const { violations } = await axe.run({
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] },
      });
      return violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    });
  };

  const recommended = () => page.locator("#recommendations li .title").allTextContents();
  const recommendationText = () => page.locator("#recommendations").textContent();
  /** Types a query and waits until the results are for it. */
  const searchFor = async (query: string) => {
    await page.getByLabel("Title").fill(query);
    await expect
      .poll(() => page.locator("#results li .title").first().textContent())
      .toMatch(new RegExp(`^${query}`));
    return page.locator("#results li").first();
  };

  it("rates three movies, updates recommendations after each, and keeps the ratings after a reload", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator("#recs-note").textContent()).toMatch(/Most rated movies/);
    // A title that carries its year ("Film 1 (1991)") is not followed by the year again.
    const firstRow = await page.locator("#recommendations li").first().textContent();
    expect(firstRow).toMatch(/\((\d{4})\)/);
    expect(firstRow).not.toMatch(/\((\d{4})\)\s*\1/);
    expect(await page.getByRole("link", { name: "API" }).getAttribute("href")).toBe("/docs/");
    let previous = await recommendationText();
    const steps: [string, number][] = [
      ["Film 1", 5],
      ["Film 2", 4],
      ["Film 3", 5],
    ];
    for (const [query, stars] of steps) {
      const first = await searchFor(query);
      // The stars sit on a row of their own, under the title and genres.
      const [meta, picker] = await Promise.all([
        first.locator(".meta").boundingBox(),
        first.locator(".stars").boundingBox(),
      ]);
      expect(picker!.y).toBeGreaterThanOrEqual(meta!.y + meta!.height - 1);
      const title = await first.locator(".title").textContent();
      await first.locator(`label[aria-label="${stars} star${stars > 1 ? "s" : ""}"]`).click();
      await expect.poll(() => page.locator("#ratings li .title").allTextContents()).toContain(title);
      // Each rating changes the recommendations: the list, its predicted stars, or its reasons.
      await expect.poll(recommendationText).not.toBe(previous);
      previous = await recommendationText();
      expect(await recommended()).not.toContain(title);
    }
    await expect.poll(() => page.locator(".because").count()).toBeGreaterThan(0);
    // Stars, lit or not, and predicted stars read at 4.5:1 or more against the white page.
    const contrasts = await page.evaluate(() => {
      const luminance = (css: string) => {
        const [r, g, b] = css
          .match(/\d+/g)!
          .slice(0, 3)
          .map((v) => {
            const c = Number(v) / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      return [".stars label", ".stars label.on", ".predicted"].map((selector) => {
        const node = document.querySelector(selector);
        return node ? 1.05 / (luminance(getComputedStyle(node).color) + 0.05) : 0;
      });
    });
    for (const ratio of contrasts) expect(ratio).toBeGreaterThanOrEqual(4.5);
    await page.screenshot({ path: join(dir, "page.png"), fullPage: true });
    // The visitor's id and token come from the service: 128 random bits, and an HMAC of them.
    const stored = JSON.parse((await page.evaluate(() => localStorage.getItem("aerec.visitor")))!);
    expect(stored.user).toMatch(/^v-[0-9a-f]{32}$/);
    expect(stored.token).toMatch(/^[\w-]{43}$/);
    await page.reload();
    await expect.poll(() => page.locator("#ratings li .title").count()).toBe(3);
    await page
      .getByRole("button", { name: /Remove your rating of/ })
      .first()
      .click();
    await expect.poll(() => page.locator("#ratings li .title").count()).toBe(2);
    if (process.env.AEREC_SCREENSHOT)
      await page.screenshot({ path: process.env.AEREC_SCREENSHOT, fullPage: true });
  });

  it("is usable from the keyboard: stars are a radio group with labels", async () => {
    await searchFor("Film 4");
    await page.getByLabel("Title").press("Tab");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => page.locator("#ratings li").count()).toBe(3);
  });

  it("shows the model page with its metrics and training curve", async () => {
    await page.goto(`${url}/#/model`);
    await expect
      .poll(() => page.locator("#model-facts").textContent())
      .toMatch(/ease: .*Stars fromautorec-i, beside it.*Test RMSE0\.9000/s);
    // The server's chart (axes, ticks, the kept epoch), as an image with a text alternative.
    const chart = page.locator("#curve img");
    await expect.poll(() => chart.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    expect(await chart.getAttribute("alt")).toMatch(/^Training curve of ease: \d+ epochs$/);
  });

  it("has no serious or critical accessibility problems (axe-core) on either page, on a phone and a desktop", async () => {
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      await page.setViewportSize(viewport);
      await page.goto(url);
      await expect.poll(() => page.locator("#recommendations li").count()).toBeGreaterThan(0);
      await searchFor("Film 5");
      expect(await accessibilityProblems(), `home ${viewport.width}px`).toEqual([]);
      await page.goto(`${url}/#/model`);
      await expect.poll(() => page.locator("#model-facts dt").count()).toBeGreaterThan(0);
      expect(await accessibilityProblems(), `model ${viewport.width}px`).toEqual([]);
    }
    await page.setViewportSize({ width: 390, height: 844 });
  });

  it("says what went wrong at the top of the window, puts the stars back, and clears the message on success", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator("#recommendations li").count()).toBeGreaterThan(0);
    const row = await searchFor("Film 6");
    const title = await row.locator(".title").textContent();
    // The network fails for this one rating.
    await page.route("**/api/users/*/ratings/**", (route) => route.abort("internetdisconnected"));
    await row.locator('label[aria-label="4 stars"]').click();
    const error = page.locator("#error");
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await page.locator("#error-text").textContent()).toMatch(/^Could not reach the aerec service/);
    const box = await error.boundingBox();
    expect(box!.y).toBeLessThan(844);
    expect(await row.locator(".stars label.on").count()).toBe(0);
    expect(await row.locator("input:checked").count()).toBe(0);
    await page.unroute("**/api/users/*/ratings/**");
    // The same rating again works: the message goes, a confirmation shows at the top, the stars stay lit.
    await row.locator('label[aria-label="4 stars"]').click();
    await expect.poll(() => error.isVisible()).toBe(false);
    await expect
      .poll(() => page.locator("#status").textContent())
      .toBe(`You rated ${title} 4 of 5: your recommendations are updated.`);
    const status = await page.locator("#status").boundingBox();
    expect(status!.y).toBeLessThan(844);
    expect(await row.locator(".stars label.on").count()).toBe(4);
  });

  it("shows a model user's training ratings, which his recommendations rest on", async () => {
    await page.goto(url);
    await page.getByLabel("Use a user id").fill("3");
    await page.getByRole("button", { name: "Switch" }).click();
    await expect.poll(() => page.locator("#identity").textContent()).toBe("You are user 3.");
    await expect.poll(() => page.locator("#training").isVisible()).toBe(true);
    const count = await page.locator("#training-ratings li").count();
    expect(count).toBeGreaterThan(0);
    expect(await page.locator("#training-summary").textContent()).toBe(
      `The ${count} ratings the model was trained with`,
    );
    // Start over leaves the model user; the new visitor's lists start empty.
    await page.getByRole("button", { name: "Start over" }).click();
    await expect.poll(() => page.locator("#identity").textContent()).toMatch(/^You are a visitor \(v-/);
    expect(await page.locator("#training").isVisible()).toBe(false);
  });
});
