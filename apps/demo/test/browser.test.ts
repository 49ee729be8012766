/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The web view in a real browser: Debian's Chromium, headless, driven by playwright-core.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDebianPackage } from "./ensure-debian-package.js";
import { allGone, alive, startWeb, type WebProcess } from "./web-process.js";

const CHROMIUM = "/usr/bin/chromium";
// The flags this machine needs: no sandbox as root, and no background connections (the network
// is closed, and Chromium would retry them all the time).
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SHOTS = fileURLToPath(new URL("../.vitest/", import.meta.url));

let web: WebProcess;
let context: BrowserContext;
let page: Page;
let profile: string;

/** The pids of the boxes shown, listening ones only. */
function listeningPids(): Promise<number[]> {
  return page.$$eval('#boxes .box[data-state="listening"]', (boxes) =>
    boxes.map((b) => Number((b as HTMLElement).dataset.pid)),
  );
}

/** The page's total of round trips served (the servers' counters). */
function roundTrips(): Promise<number> {
  return page.$eval("#total-roundtrips", (el) => Number((el as HTMLElement).dataset.value));
}

/** Waits until the round-trip counter has gone past `value`. */
async function roundTripsPass(value: number): Promise<void> {
  await page.waitForFunction(
    (v) => Number(document.querySelector<HTMLElement>("#total-roundtrips")!.dataset.value) > v,
    value,
  );
}

async function screenshot(name: string): Promise<string> {
  const path = join(SHOTS, name);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`[echo] screenshot: ${path}\n`);
  return path;
}

describe("echo-demo web in Chromium", () => {
  beforeAll(async () => {
    ensureDebianPackage("chromium", CHROMIUM);
    mkdirSync(SHOTS, { recursive: true });
    web = await startWeb();
    profile = mkdtempSync(join(tmpdir(), "echo-demo-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(60_000);
  }, 20 * 60_000);

  afterAll(async () => {
    await context?.close();
    await web?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("runs prefork under load, replaces a killed worker while the load goes on, then serves on selector/epoll", async () => {
    await page.goto(web.url);
    await page.waitForSelector('#connection[data-state="open"]');

    // Prefork with three workers: three boxes, each a live process.
    await page.selectOption("#model", "prefork");
    await page.fill("#workers", "3");
    await page.click("#start-model");
    await page.waitForFunction(() => document.querySelectorAll('#boxes .box[data-state="listening"]').length === 3);
    const before = await listeningPids();
    expect(before.every(alive)).toBe(true);

    // A load: the round-trip counters move, and the boxes show their share.
    await page.fill("#connections", "20");
    await page.fill("#seconds", "90");
    await page.click("#start-load");
    await page.waitForSelector('#load-status[data-running="true"]');
    await roundTripsPass(0);
    await roundTripsPass(await roundTrips());
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>("#boxes .box")].some((b) => Number(b.dataset.rate) > 0),
    );

    // Kill the busiest worker: a box with a new pid replaces it, and the load goes on.
    await page.click("#kill-worker");
    await page.waitForFunction((before) => {
      const pids = [...document.querySelectorAll<HTMLElement>('#boxes .box[data-state="listening"]')].map((b) =>
        Number(b.dataset.pid),
      );
      return pids.length === 3 && pids.filter((p) => before.includes(p)).length === 2;
    }, before);
    const after = await listeningPids();
    const victim = before.find((p) => !after.includes(p))!;
    const replacement = after.find((p) => !before.includes(p))!;
    expect(alive(victim)).toBe(false);
    expect(alive(replacement)).toBe(true);
    expect(await page.$eval("#load-status", (el) => (el as HTMLElement).dataset.running)).toBe("true");
    await roundTripsPass(await roundTrips());
    // The action says what it cost the load.
    await page.waitForSelector('#action-log li[data-kind="kill"][data-status="done"]');
    expect(await page.textContent('#action-log li[data-kind="kill"]')).toMatch(
      new RegExp(`SIGKILL Process-\\d \\(pid ${victim}\\).*replaced it.*\\(\\d+ connections? failed\\)`),
    );
    // The new box's counters move too: the kernel hands it connections as the load reconnects.
    await page.waitForFunction(
      (pid) => Number(document.querySelector<HTMLElement>(`#boxes .box[data-pid="${pid}"]`)?.dataset.rate) > 0,
      replacement,
    );
    await screenshot("web-demo-prefork.png");

    // Selector with epoll: the prefork workers end, one loop serves the next load.
    await page.selectOption("#model", "selector");
    await page.selectOption("#selector", "epoll");
    await page.click("#start-model");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("#boxes .box")?.dataset.name === "SelectorThread (epoll)",
    );
    await allGone(after);
    await page.click("#start-load");
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>("#boxes .box")?.dataset.rate) > 0);
    await roundTripsPass(await roundTrips());

    // The comparison of epoll, poll and select with 2,000 idle connections: select refuses some.
    await page.click("#compare");
    await page.waitForFunction(
      () =>
        document.querySelectorAll("#compare-table tbody tr").length === 3 &&
        !/measuring/.test(document.querySelector("#compare-note")!.textContent),
      null,
      { timeout: 120_000 },
    );
    const refused = await page.$eval('#compare-table tr[data-selector="select"] td:last-child', (td) =>
      Number(td.textContent.replace(/,/g, "")),
    );
    expect(refused).toBeGreaterThan(0);
    expect(await page.textContent("#compare-note")).toContain("FD_SETSIZE (1024)");
    await screenshot("web-demo-selector.png");
  });
});
