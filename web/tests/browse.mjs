// What the browser checks share: Debian's chromium's flags, and planning a route by tapping its ends.
export const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
};

/** On the Route tab, tap ``from`` and ``to`` (lon, lat) on the map, pick ``mode``, plan, and wait for the
    answer (the API's, or the offline planner's); returns it. */
export async function planRoute(page, from, to, mode = null) {
  await page.click("nav button[data-tab=route]");
  const box = await page.locator("#map").boundingBox();
  for (const point of [from, to]) {
    const p = await page.evaluate((ll) => window.greyzone.map.project(ll), point);
    await page.mouse.click(box.x + p.x, box.y + p.y);
  }
  if (mode) await page.selectOption("#mode", mode);
  await page.click("#plan");
  await page.waitForFunction(() => window.greyzone.data.route, null, { timeout: 60000 });
  return page.evaluate(() => window.greyzone.data.route);
}
