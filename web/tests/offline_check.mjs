// The web map in the field without a network, in Debian's chromium (playwright-core), one profile kept on
// disk across phases so that the service worker, its cache and IndexedDB persist as on a phone:
//   warm    — online: the page installs its service worker and keeps the city's bundle
//   offline — the server is stopped and the browser set offline: the page reloads from the cache, shows
//             how old its data is, plans a route in the browser (timed), and a report typed is queued
//   online  — the server is back: the queue is sent (or kept, with the user told, when the token is refused)
//   node web/tests/offline_check.mjs PHASE URL PROFILE OUT TOKEN FROM_LON,FROM_LAT TO_LON,TO_LAT
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { CHROMIUM, planRoute } from "./browse.mjs";

const [phase, url, profile, out, token, fromArg, toArg] = process.argv.slice(2);
const from = fromArg.split(",").map(Number);
const to = toArg.split(",").map(Number);
const result = { phase, errors: [] };
const context = await chromium.launchPersistentContext(profile,
  { ...CHROMIUM, viewport: { width: 1200, height: 800 }, serviceWorkers: "allow" });
const posts = [];
try {
  if (phase === "offline") await context.setOffline(true);
  const page = context.pages()[0] || await context.newPage();
  page.on("pageerror", (e) => result.errors.push(String(e)));
  page.on("request", (r) => { if (r.method() === "POST" && r.url().includes("/api/reports")) posts.push(r.url()); });
  await page.goto(`${url}/map/?lang=en`);
  await page.evaluate((key) => localStorage.setItem("greyzone.token", key), token);
  if (phase === "warm") {
    await page.evaluate(() => window.greyzone.ready);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();  // now controlled by the worker: everything the page fetches is kept
    await page.evaluate(() => window.greyzone.ready);
    result.bundle = await page.evaluate(() => window.greyzone.bundleSaved);
    result.controlled = await page.evaluate(() => Boolean(navigator.serviceWorker.controller));
    await page.waitForTimeout(500);
  } else if (phase === "offline") {
    await page.evaluate(() => window.greyzone.ready);
    await page.evaluate(() => new Promise((r) => (window.greyzone.map.loaded() ? r() : window.greyzone.map.once("idle", r))));
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}/offline.png` });
    result.banner = await page.locator("#offline-banner").innerText();
    result.streets = await page.evaluate(() => window.greyzone.map.querySourceFeatures("streets").length);
    await page.check("#layer-control");  // the layer from the kept bundle
    await page.waitForFunction(() => window.greyzone.data.control !== undefined, null, { timeout: 20000 });
    result.control = await page.evaluate(() => window.greyzone.data.control.features.length);
    result.cachedWithToken = await page.evaluate(async () => {  // nothing fetched with a token was kept
      const cache = await caches.open((await caches.keys())[0]);
      return (await cache.keys()).map((r) => new URL(r.url).pathname).filter((p) => p.startsWith("/api/layers") || p.startsWith("/api/reports"));
    });
    await page.uncheck("#layer-control");
    const route = await planRoute(page, from, to, "car");
    const box = await page.locator("#map").boundingBox();
    result.route = { offline: route.offline, reachable: route.reachable, risk: route.risk, minutes: route.seconds / 60,
      points: route.geometry ? route.geometry.coordinates.length : 0, text: await page.locator("#route-result").innerText() };
    await page.screenshot({ path: `${out}/offline-route.png` });
    result.timings = await page.evaluate(async ([a, b]) => {  // the in-browser planner, timed (graph built once)
      const bundle = await greyzoneOffline.kept.bundle(window.greyzone.state.city);
      greyzoneOffline.offlineRoute(bundle, a, b, "car", new Date(bundle.hazard_start));
      const ms = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        greyzoneOffline.offlineRoute(bundle, a, b, i % 2 ? "foot" : "car", new Date(bundle.hazard_start));
        ms.push(performance.now() - t0);
      }
      return ms;
    }, [from, to]);
    await page.click("nav button[data-tab=report]");
    await page.fill("#report-text", "typed offline");
    const rp = await page.evaluate((ll) => window.greyzone.map.project(ll), from);
    await page.mouse.click(box.x + rp.x + 15, box.y + rp.y + 15);
    await page.click("#send");
    await page.waitForFunction(() => document.getElementById("outbox").innerText.length > 0, null, { timeout: 20000 });
    result.report = await page.locator("#report-result").innerText();
    result.outbox = await page.evaluate(() => window.greyzone.showOutbox());
  } else {
    await page.evaluate(() => window.greyzone.ready);
    await page.evaluate(() => window.greyzone.flush());
    result.outbox = await page.evaluate(() => window.greyzone.showOutbox());
    result.report = await page.locator("#report-result").innerText();
  }
} catch (error) {
  result.errors.push(String(error && error.stack || error));
} finally {
  await context.close();
}
result.posts = posts.length;
writeFileSync(`${out}/offline-${phase}.json`, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
