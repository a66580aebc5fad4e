// The offline in-browser route planner against the server's, on the same trip, in Debian's chromium:
// the page keeps its bundle, then plans RUNS routes in the browser (greyzoneOffline.offlineRoute) and
// RUNS through the API (POST /api/route, one departure), interleaved; prints the p50 of each as JSON.
//   node benchmarks/offline_route.mjs URL FROM_LON,FROM_LAT TO_LON,TO_LAT RUNS
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { chromium } = await import(path.join(root, "web/node_modules/playwright-core/index.mjs"));
const [url, fromArg, toArg, runsArg] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"] });
try {
  const page = await browser.newPage();
  await page.goto(`${url}/map/?lang=en`);
  await page.evaluate(() => window.greyzone.ready);
  await page.evaluate(() => window.greyzone.bundleSaved);
  const result = await page.evaluate(async ([a, b, runs]) => {
    const bundle = await greyzoneOffline.kept.bundle(window.greyzone.state.city);
    const depart = new Date(bundle.hazard_start);
    const first = performance.now();
    greyzoneOffline.offlineRoute(bundle, a, b, "car", depart);  // builds the graph once
    const build = performance.now() - first;
    const browser = [], server = [];
    for (let i = 0; i < runs; i++) {
      let t0 = performance.now();
      const r = greyzoneOffline.offlineRoute(bundle, a, b, "car", depart);
      browser.push(performance.now() - t0);
      t0 = performance.now();
      const answer = await fetch("/api/route", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ city: window.greyzone.state.city, origin: a, destination: b, mode: "car",
          depart: depart.toISOString().replace("Z", "+00:00") }) }).then((x) => x.json());
      server.push(performance.now() - t0);
      if (!r.reachable || !answer.reachable) throw new Error("unreachable");
    }
    const p50 = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    return { build_ms: build, browser_p50_ms: p50(browser), server_p50_ms: p50(server), runs };
  }, [fromArg.split(",").map(Number), toArg.split(",").map(Number), Number(runsArg)]);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
