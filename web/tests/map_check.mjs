// Drives the web map in Debian's chromium with playwright-core: loads it, toggles each layer, moves the
// time slider, plans a route, submits a report, switches to Ukrainian, opens it on a 360-px phone.
// Saves screenshots under OUT and prints what it saw as JSON (the pytest test asserts on it).
//   node web/tests/map_check.mjs URL OUT REPORTER_TOKEN ANALYST_TOKEN FROM_LON,FROM_LAT TO_LON,TO_LAT
// (the layers are looked at as an analyst sees them; the report is sent with the reporter's token)
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { CHROMIUM, planRoute } from "./browse.mjs";

const [url, out, token, analyst, fromArg, toArg] = process.argv.slice(2);
const from = fromArg.split(",").map(Number);
const to = toArg.split(",").map(Number);

/** The RGB of a 1×1 PNG (whatever the row filter, a lone pixel is stored as is). */
function rgb(png) {
  let offset = 8;
  const data = [];
  let colourType = 6;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") colourType = body[9];
    if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  if (colourType !== 2 && colourType !== 6) throw new Error(`PNG colour type ${colourType}`);
  return [raw[1], raw[2], raw[3]];
}

async function pixel(page, x, y) {
  const box = await page.locator("#map").boundingBox();
  return rgb(await page.screenshot({ clip: { x: box.x + x, y: box.y + y, width: 1, height: 1 } }));
}

const differs = (a, b) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);

async function idle(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const map = window.greyzone.map;
    if (map.loaded() && !map.isMoving()) { requestAnimationFrame(() => requestAnimationFrame(resolve)); return; }
    map.once("idle", resolve);
  }));
  await page.waitForTimeout(150);
}

/** A pixel of the map where ``layer`` is drawn (MapLibre's own hit test), and the feature drawn there. */
async function where(page, layers) {
  return page.evaluate((ids) => {
    const map = window.greyzone.map;
    const canvas = map.getCanvas();
    const w = canvas.clientWidth, h = canvas.clientHeight;
    for (let i = 2; i < 30; i++) {
      for (let j = 2; j < 30; j++) {
        const x = Math.round((w * j) / 31), y = Math.round((h * i) / 31);
        const hit = map.queryRenderedFeatures([x, y], { layers: ids });
        if (hit.length) {
          const p = hit[0].geometry.type === "Point" ? map.project(hit[0].geometry.coordinates) : { x, y };
          const ll = map.unproject([p.x, p.y]);  // a point feature: its centre, not the rim the grid met
          return { x: Math.round(p.x), y: Math.round(p.y), lon: ll.lng, lat: ll.lat, properties: hit[0].properties,
            layer: hit[0].layer.id };
        }
      }
    }
    return null;
  }, layers);
}

const browser = await chromium.launch(CHROMIUM);
const result = { layers: {}, errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on("pageerror", (e) => result.errors.push(String(e)));
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(`${url}/map/?lang=en`);
  await page.evaluate((key) => localStorage.setItem("greyzone.token", key), analyst);
  await page.reload();
  await page.evaluate(() => window.greyzone.ready);
  await idle(page);
  await page.evaluate(() => window.greyzone.labelled);
  await idle(page);
  await page.screenshot({ path: `${out}/map.png` });
  // labels: each place label where its settlement is, and its text drawn (pixels change when labels hide)
  result.labels = await page.evaluate(() => {
    const map = window.greyzone.map, box = document.getElementById("map").getBoundingClientRect();
    return [...document.querySelectorAll(".label")].map((el) => {
      const r = el.getBoundingClientRect(), p = map.project([Number(el.dataset.lon), Number(el.dataset.lat)]);
      return { text: el.textContent, kind: el.className, x: r.x - box.x, y: r.y - box.y, w: r.width, h: r.height,
        px: p.x, py: p.y, shown: r.width > 0 && r.x >= box.x && r.right <= box.right && r.y >= box.y && r.bottom <= box.bottom };
    });
  });
  const shown = result.labels.filter((l) => l.shown && l.kind.includes("place") && l.w > 20);
  if (shown.length) {
    const l = shown[0];
    const spots = [];
    for (let i = 1; i < 8; i++) for (let j = 1; j < 4; j++) spots.push([Math.round(l.x + (l.w * i) / 8), Math.round(l.y + (l.h * j) / 4)]);
    const on = [];
    for (const [x, y] of spots) on.push(await pixel(page, x, y));
    await page.evaluate(() => document.getElementById("map").classList.add("nolabels"));
    const off = [];
    for (const [x, y] of spots) off.push(await pixel(page, x, y));
    await page.evaluate(() => document.getElementById("map").classList.remove("nolabels"));
    result.labelPixels = { text: l.text, changed: on.filter((c, i) => differs(c, off[i]) > 60).length, of: spots.length };
  }
  const streets = await where(page, ["streets"]);
  result.streets = streets ? differs(await pixel(page, streets.x, streets.y), [244, 241, 234]) : 0;

  const layerIds = { control: ["control"], hazard: ["hazard"], incidents: ["incidents", "incidents-cells"],
    corridors: ["corridors", "corridors-lines"] };
  for (const [name, ids] of Object.entries(layerIds)) {
    await page.evaluate((n) => { delete window.greyzone.data[n]; }, name);
    await page.check(`#layer-${name}`);
    await page.waitForFunction((n) => window.greyzone.data[n] !== undefined, name, { timeout: 60000 });
    await idle(page);
    const legend = await page.locator("#legend").innerText();
    const usualMark = await page.locator("#legend .ramp .usual").count();
    const notice = await page.locator("#notice").innerText();
    const spot = await where(page, ids);
    const seen = await page.evaluate((n) => ({ features: window.greyzone.data[n].features.length, at: window.greyzone.data[n].at }), name);
    if (spot) {
      seen.on = await pixel(page, spot.x, spot.y);
      seen.properties = spot.properties;
      seen.lonlat = [spot.lon, spot.lat];
      await page.screenshot({ path: `${out}/layer-${name}.png` });
      await page.uncheck(`#layer-${name}`);
      await idle(page);
      seen.off = await pixel(page, spot.x, spot.y);
      seen.change = differs(seen.on, seen.off);
    } else {
      await page.uncheck(`#layer-${name}`);
    }
    seen.legend = legend;
    seen.notice = notice;
    seen.usualMark = usualMark;
    result.layers[name] = seen;
  }

  // the time slider: the control map replayed at the first step of the period
  await page.evaluate(() => { delete window.greyzone.data.control; });
  await page.check("#layer-control");
  await page.waitForFunction(() => window.greyzone.data.control !== undefined, null, { timeout: 60000 });
  await idle(page);
  const before = await page.locator("#asof").innerText();
  const areasBefore = await page.evaluate(() => JSON.stringify(window.greyzone.data.control.features.map((f) => f.properties)));
  await page.evaluate(() => { delete window.greyzone.data.control; });
  await page.locator("#time").evaluate((el) => { el.value = 8; el.dispatchEvent(new Event("input")); });
  await page.waitForFunction(() => window.greyzone.data.control !== undefined, null, { timeout: 60000 });
  await idle(page);
  result.slider = { before, after: await page.locator("#asof").innerText(),
    changed: areasBefore !== await page.evaluate(() => JSON.stringify(window.greyzone.data.control.features.map((f) => f.properties))) };
  await page.screenshot({ path: `${out}/slider.png` });
  // a click on the control layer opens a popup with the cell's state and as-of
  const cell = await where(page, ["control"]);
  if (cell) {
    const mapBox = await page.locator("#map").boundingBox();
    await page.mouse.click(mapBox.x + cell.x, mapBox.y + cell.y);
    await page.waitForSelector(".maplibregl-popup", { timeout: 10000 });
    result.popup = { text: await page.locator(".maplibregl-popup").innerText(), state: cell.properties.state };
    await page.screenshot({ path: `${out}/popup.png` });
    await page.locator(".maplibregl-popup-close-button").click();
  }
  await page.uncheck("#layer-control");
  await page.locator("#time").evaluate((el) => { el.value = el.max; el.dispatchEvent(new Event("input")); });
  await idle(page);

  // the route planner: from and to picked on the map
  const route = await planRoute(page, from, to, "car");
  const box = await page.locator("#map").boundingBox();
  await idle(page);
  const middle = route.geometry.coordinates[Math.floor(route.geometry.coordinates.length / 2)];
  const mp = await page.evaluate((ll) => window.greyzone.map.project(ll), middle);
  result.route = { reachable: route.reachable, risk: route.risk, minutes: route.minutes, curve: route.curve.length,
    text: await page.locator("#route-result").innerText(), pixel: await pixel(page, mp.x, mp.y),
    from: route.geometry.coordinates[0], to: route.geometry.coordinates.at(-1) };
  await page.screenshot({ path: `${out}/route.png` });

  // an area to avoid, tapped on the route's middle: the route planned again keeps out of it
  await page.click("#pick-avoid");
  await page.mouse.click(box.x + mp.x, box.y + mp.y);
  await page.evaluate(() => { delete window.greyzone.data.route; });
  await page.click("#plan");
  await page.waitForFunction(() => window.greyzone.data.route, null, { timeout: 60000 });
  await idle(page);
  const detour = await page.evaluate(() => window.greyzone.data.route);
  const metres = ([x, y], [a, b]) => Math.hypot((x - a) * 111320 * Math.cos((b * Math.PI) / 180), (y - b) * 110540);
  const along = [];  // the detour's points and the midpoints of its segments
  const c = detour.geometry.coordinates;
  for (let i = 0; i < c.length; i++) { along.push(c[i]); if (i) along.push([(c[i][0] + c[i - 1][0]) / 2, (c[i][1] + c[i - 1][1]) / 2]); }
  result.avoid = { reachable: detour.reachable, nearest_m: Math.min(...along.map((q) => metres(q, middle))),
    drawn: await page.evaluate(() => window.greyzone.state.avoid.length),
    painted: await page.evaluate(() => window.greyzone.map.queryRenderedFeatures({ layers: ["avoid"] }).length > 0),
    notes: (detour.notes || []).join("; ") };
  await page.screenshot({ path: `${out}/avoid.png` });
  await page.click("#clear-avoid");

  // where one can get from the route's start in 15 minutes: drawn, and every street within the bounds
  await page.fill("#reach-minutes", "15");
  await page.click("#reach");
  await page.waitForFunction(() => window.greyzone.data.reach, null, { timeout: 60000 });
  await idle(page);
  result.reach = await page.evaluate(() => {
    const r = window.greyzone.data.reach;
    return { streets: r.features.length, worst: Math.max(...r.features.map((f) => f.properties.minutes)),
      risk: Math.max(...r.features.map((f) => f.properties.risk ?? 0)), maxRisk: r.max_risk,
      painted: window.greyzone.map.queryRenderedFeatures({ layers: ["reach"] }).length > 0,
      text: document.getElementById("reach-result").innerText };
  });
  await page.screenshot({ path: `${out}/reach.png` });

  // a report, with a reporter's token
  await page.click("nav button[data-tab=report]");
  await page.fill("#token", token);
  await page.fill("#report-text", "browser test");
  const rp = await page.evaluate((ll) => window.greyzone.map.project(ll), from);
  await page.mouse.click(box.x + rp.x + 20, box.y + rp.y + 20);
  await page.click("#send");
  await page.waitForFunction(() => document.getElementById("report-result").innerText.length > 0, null, { timeout: 20000 });
  result.report = await page.locator("#report-result").innerText();
  await page.screenshot({ path: `${out}/report.png` });

  await page.click("#lang");
  result.ukrainian = await page.locator("nav button[data-tab=layers]").innerText();
  // the Ukrainian page: no string of the UI's English list left on any tab (the route result included)
  await page.click("nav button[data-tab=layers]");
  await page.check("#layer-corridors");
  await page.check("#layer-control");
  await idle(page);
  const english = await page.evaluate(() => Object.entries(TEXT.en)
    .filter(([key, value]) => value !== TEXT.uk[key] && value.length > 3).map(([, value]) => value));
  const seenUk = [];
  for (const tab of ["layers", "route", "report"]) {
    await page.click(`nav button[data-tab=${tab}]`);
    seenUk.push(await page.locator("header").innerText(), await page.locator("#panel").innerText());
  }
  const ukText = seenUk.join("\n");
  result.englishLeft = english.filter((s) => ukText.includes(s));
  result.ukRoute = await page.locator("#route-result").innerText();
  await page.click("nav button[data-tab=route]");
  await page.screenshot({ path: `${out}/route-uk.png` });
  await page.click("nav button[data-tab=layers]");
  await page.uncheck("#layer-corridors");
  await page.uncheck("#layer-control");
  result.offsite = requests.filter((r) => !r.startsWith(url) && !r.startsWith("data:") && !r.startsWith("blob:"));

  const phone = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await phone.goto(`${url}/map/?lang=uk`);
  await phone.evaluate(() => window.greyzone.ready);
  await phone.waitForTimeout(500);
  await phone.screenshot({ path: `${out}/phone.png` });
  result.phone = await phone.evaluate(() => ({
    width: document.documentElement.scrollWidth, map: document.getElementById("map").getBoundingClientRect().height,
    panel: document.getElementById("panel").getBoundingClientRect().width, label: document.querySelector("nav button").innerText,
  }));
  // a route planned on the phone: its result in view without scrolling the page past the map
  await planRoute(phone, from, to);
  await phone.waitForTimeout(300);
  await phone.screenshot({ path: `${out}/phone-route.png` });
  result.phone.route = await phone.evaluate(() => {
    const risk = document.querySelector("[data-testid=risk]").getBoundingClientRect();
    return { top: risk.top, bottom: risk.bottom, height: window.innerHeight, pageScroll: document.scrollingElement.scrollTop,
      text: document.querySelector("[data-testid=risk]").innerText };
  });
} catch (error) {
  result.errors.push(String(error && error.stack || error));
} finally {
  await browser.close();
}
writeFileSync(`${out}/result.json`, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
