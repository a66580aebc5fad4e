// Drives the coordinator's board and the residents' page in Debian's chromium with playwright-core: the
// request queue with its reasons, vet → approve → crews → assign, and the residents' page on a 360-px phone
// in Ukrainian. Saves screenshots under OUT and prints what it saw as JSON (the pytest test asserts on it).
//   node web/tests/coordination_check.mjs URL OUT COORDINATOR_TOKEN AT DAY LON,LAT
import { chromium } from "playwright-core";
import { CHROMIUM } from "./browse.mjs";

const [url, out, token, at, day, hereArg] = process.argv.slice(2);
const [lon, lat] = hereArg.split(",");
const browser = await chromium.launch(CHROMIUM);
const seen = { errors: [], offsite: [] };

async function open(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") seen.errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400) seen.errors.push(`${r.status()} ${r.url()}`); });
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) seen.offsite.push(r.url()); });
  return page;
}

const cards = (page) => page.$$eval("#queue .request", (all) => all.map((d) => ({
  id: d.dataset.id, state: d.dataset.state, level: d.className.replace("request level-", ""),
  reasons: [...d.querySelectorAll(".reasons li")].map((li) => li.textContent),
})));

async function reload(page, before) {
  await page.waitForFunction((n) => window.greyzone.loaded > n, before, { timeout: 60000 });
}

// the board
const board = await open({ width: 1400, height: 900 });
const q = new URLSearchParams({ city: "demo", at, day, token });
await board.goto(`${url}/map/board.html?${q}`);
await board.evaluate(() => window.greyzone.ready);
await board.waitForTimeout(300);
await board.screenshot({ path: `${out}/board-status.png` });
seen.statusRows = await board.$$eval("#status-table tr", (rows) => rows.slice(1).map((r) => [...r.cells].map((c) => c.textContent)));
await board.click("nav button[data-tab=requests]");
seen.cards = await cards(board);
const pick = seen.cards.find((c) => c.state === "vetting" && c.level === "low");
seen.picked = pick ? pick.id : null;
if (pick) {
  let n = await board.evaluate(() => window.greyzone.loaded);
  await board.click(`#queue .request[data-id="${pick.id}"] button[data-action="Approve"]`);
  await reload(board, n);
  seen.afterApprove = (await cards(board)).find((c) => c.id === pick.id);
  await board.click(`#queue .request[data-id="${pick.id}"] button[data-action="Crews"]`);
  await board.waitForFunction(() => window.greyzone.crews, null, { timeout: 60000 });
  seen.crews = await board.evaluate(() => window.greyzone.crews.map((c) => ({ id: c.crew_id, feasible: c.feasible, problems: c.problems })));
  const first = seen.crews.find((c) => c.feasible);
  if (first) {
    n = await board.evaluate(() => window.greyzone.loaded);
    await board.click(`#queue .request[data-id="${pick.id}"] li[data-crew="${first.id}"] button`);
    await reload(board, n);
    seen.assigned = await board.evaluate(() => window.greyzone.assigned);
    seen.afterAssign = (await cards(board)).find((c) => c.id === pick.id);
  }
}
await board.waitForTimeout(300);
await board.screenshot({ path: `${out}/board-requests.png` });
seen.notice = await board.textContent("#notice");

// the sitrep page: the report of a day in its HTML edition, its maps drawn
const report = await open({ width: 1200, height: 1000 });
const sq = new URLSearchParams({ city: "demo", date: day.slice(0, 8) + String(Number(day.slice(8)) - 1).padStart(2, "0"), lang: "uk", token });
await report.goto(`${url}/map/sitrep.html?${sq}`);
await report.evaluate(() => window.greyzone.ready);
const frame = report.frames().find((f) => f !== report.mainFrame());
seen.sitrep = await frame.evaluate(() => ({
  heading: document.querySelector("h1").textContent,
  images: [...document.images].map((i) => ({ alt: i.alt, w: i.naturalWidth, h: i.naturalHeight })),
  external: [...document.querySelectorAll("[src],[href]")].map((e) => e.getAttribute("src") || e.getAttribute("href")).filter((u) => !u.startsWith("data:")),
}));
seen.sitrep.edition = await report.evaluate(() => window.greyzone.edition);
seen.sitrep.mapBytes = [];
for (const alt of ["incidents", "changes", "hazard"]) {
  const img = frame.locator(`img[alt="${alt}"]`);
  if (await img.count()) seen.sitrep.mapBytes.push((await img.screenshot()).length);
}
await report.screenshot({ path: `${out}/sitrep.png` });

// the residents' page on a phone, in Ukrainian
const phone = await open({ width: 360, height: 740 });
const r = new URLSearchParams({ city: "demo", at, lon, lat, service: "bread", lang: "uk" });
await phone.goto(`${url}/map/residents.html?${r}`);
await phone.evaluate(() => window.greyzone.ready);
await phone.waitForSelector("#points li", { timeout: 60000 });
await phone.waitForTimeout(300);
seen.residents = await phone.evaluate(() => ({
  lang: document.documentElement.lang,
  title: document.querySelector("header strong").textContent,
  points: [...document.querySelectorAll("#points li")].map((li) => ({
    name: li.querySelector("strong").textContent, status: li.querySelector(".status").textContent, text: li.textContent,
  })),
  scrollWidth: document.documentElement.scrollWidth,
}));
await phone.screenshot({ path: `${out}/residents-360.png`, fullPage: true });

// the alert rules page: an area drawn on the map (four corners, a double-click closes it), a rule saved
const rules = await open({ width: 1300, height: 850 });
await rules.goto(`${url}/map/alerts.html?${new URLSearchParams({ city: "demo", token, lang: "en" })}`);
await rules.evaluate(() => window.greyzone.ready);
const mapBox = await rules.locator("#map").boundingBox();
const corners = [[0.35, 0.35], [0.65, 0.35], [0.65, 0.65], [0.35, 0.65]];
for (const [fx, fy] of corners) {
  await rules.mouse.click(mapBox.x + fx * mapBox.width, mapBox.y + fy * mapBox.height);
  await rules.waitForTimeout(350);  // apart: not a double-click
}
await rules.mouse.dblclick(mapBox.x + 0.35 * mapBox.width, mapBox.y + 0.65 * mapBox.height);
seen.drawn = await rules.evaluate(() => window.greyzone.state.corners.length);
await rules.fill("#r-name", "centre shelling");
await rules.fill("#r-kinds", "shelling,glide_bomb");
await rules.fill("#r-at-least", "2");
await rules.fill("#r-url", `${url.replace(/:\d+$/, "")}:9/hook`);
let before = await rules.evaluate(() => window.greyzone.loaded || 0);
await rules.click("#save");
await rules.waitForFunction((n) => (window.greyzone.loaded || 0) > n, before, { timeout: 60000 });
seen.alertSaved = await rules.evaluate(() => window.greyzone.saved);
seen.alertRows = await rules.$$eval("#rules tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
seen.alertSecret = await rules.textContent("#secret");
seen.alertFields = await rules.$$eval("#rule-form label", (all) => all.filter((l) => l.offsetParent !== null).map((l) => l.firstElementChild ? l.firstElementChild.textContent : l.firstChild.textContent.trim()));
await rules.waitForTimeout(300);
await rules.screenshot({ path: `${out}/alerts.png` });

// the review queue of free-text messages: read, then one rejected and one corrected
const review = await open({ width: 1100, height: 900 });
await review.goto(`${url}/map/review.html?${new URLSearchParams({ token, lang: "en" })}`);
await review.evaluate(() => window.greyzone.ready);
const queued = () => review.$$eval("#queue .request", (all) => all.map((d) => ({ id: d.dataset.id, text: d.querySelector("blockquote").textContent })));
seen.reviewBefore = await queued();
await review.screenshot({ path: `${out}/review.png`, fullPage: true });
if (seen.reviewBefore.length >= 2) {
  let n = await review.evaluate(() => window.greyzone.loaded);
  await review.click(`#queue .request[data-id="${seen.reviewBefore[0].id}"] button[data-action="reject"]`);
  await review.waitForFunction((k) => window.greyzone.loaded > k, n, { timeout: 60000 });
  const second = `#queue .request[data-id="${seen.reviewBefore[1].id}"]`;
  await review.selectOption(`${second} select`, "shelling");
  await review.fill(`${second} input[data-field="place"]`, "Покровськ");
  await review.fill(`${second} input[data-field="lon"]`, "37.18");
  await review.fill(`${second} input[data-field="lat"]`, "48.283");
  await review.fill(`${second} input[data-field="injured"]`, "2");
  n = await review.evaluate(() => window.greyzone.loaded);
  await review.click(`${second} button[data-action="correct"]`);
  await review.waitForFunction((k) => window.greyzone.loaded > k, n, { timeout: 60000 });
  seen.reviewAfter = await queued();
}
await browser.close();
console.log(JSON.stringify(seen));
