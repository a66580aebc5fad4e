/* greyzone in the field without a network: what the page keeps in IndexedDB (the city's streets, the last
   control map and the 24-hour hazard forecast: the "bundle"; reports typed offline: the "outbox") and the
   route planner that runs in the browser on the bundle when the API cannot be reached.

   The offline planner is Dijkstra with a binary heap over the city's streets (a city's graph is small
   enough: no WebAssembly needed), each street charged the hour one enters it on the cheapest way found;
   the cost is the server's (exposure + time weight × hours) with the cached hazard counted as an area
   threat, the other side's ground closed and grey ground dearer. It leaves out what the server counts and
   the bundle does not hold (FPV drones hunting the roads, mine reports, every hazard model but the map's
   one) — the answer says so. */
"use strict";
(() => {

  const DB_NAME = "greyzone";
  function idb() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore("bundle");
        open.result.createObjectStore("outbox", { keyPath: "key" });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  async function tx(store, mode, work) {
    const db = await idb();
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const request = work(t.objectStore(store));
      t.oncomplete = () => resolve(request ? request.result : undefined);
      t.onerror = () => reject(t.error);
    });
  }
  const kept = {
    saveBundle: (city, bundle) => tx("bundle", "readwrite", (s) => s.put(bundle, city)),
    bundle: (city) => tx("bundle", "readonly", (s) => s.get(city)),
    queue: (item) => tx("outbox", "readwrite", (s) => s.put(item)),
    queued: () => tx("outbox", "readonly", (s) => s.getAll()),
    done: (key) => tx("outbox", "readwrite", (s) => s.delete(key)),
  };

  function metres(a, b) {  // haversine
    const r = 6371008.8, rad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * rad, dLon = (b[0] - a[0]) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  function inside(point, ring) {  // ray casting
    let x = point[0], y = point[1], yes = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) yes = !yes;
    }
    return yes;
  }
  function polygons(geometry) {
    return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  }
  function locate(features, value) {  // for each feature with a polygon: its box, rings and value
    return features.map((f) => {
      const rings = polygons(f.geometry);
      const xs = rings.flat(2).filter((_, i) => i % 2 === 0), ys = rings.flat(2).filter((_, i) => i % 2 === 1);
      return { rings, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], value: value(f) };
    }).filter((a) => a.rings.length);
  }
  function lookup(areas, point) {
    for (const a of areas) {
      if (point[0] < a.box[0] || point[0] > a.box[2] || point[1] < a.box[1] || point[1] > a.box[3]) continue;
      if (a.rings.some((polygon) => inside(point, polygon[0]) && !polygon.slice(1).some((hole) => inside(point, hole)))) return a.value;
    }
    return null;
  }

  /** The graph of a bundle, built once: junctions, streets (both ways unless one-way), each street's hazard
      rates by hour and control state at its middle. */
  function graphOf(bundle) {
    if (bundle._graph) return bundle._graph;
    const index = new Map(), lon = [], lat = [];
    const node = (c) => {
      const key = `${c[0].toFixed(5)},${c[1].toFixed(5)}`;
      if (!index.has(key)) { index.set(key, lon.length); lon.push(c[0]); lat.push(c[1]); }
      return index.get(key);
    };
    const hazard = locate((bundle.hazard || { features: [] }).features.filter((f) => f.properties.events_per_km2_h),
      (f) => f.properties.events_per_km2_h);
    const control = locate((bundle.control || { features: [] }).features, (f) => f.properties.state);
    const edges = [];
    for (const f of bundle.streets.features) {
      const line = f.geometry.coordinates;
      if (line.length < 2) continue;
      let length = 0;
      for (let i = 1; i < line.length; i++) length += metres(line[i - 1], line[i]);
      const middle = line[Math.floor(line.length / 2)];
      const street = { length, cls: f.properties.class, name: f.properties.name, line,
        rates: lookup(hazard, middle), state: lookup(control, middle) };
      const a = node(line[0]), b = node(line[line.length - 1]);
      edges.push({ ...street, from: a, to: b, reversed: false });
      if (!f.properties.oneway) edges.push({ ...street, from: b, to: a, reversed: true });
    }
    const out = Array.from({ length: lon.length }, () => []);
    edges.forEach((e, i) => out[e.from].push(i));
    bundle._graph = { lon, lat, edges, out };
    return bundle._graph;
  }

  function nearest(g, point) {
    let best = -1, distance = Infinity;
    for (let i = 0; i < g.lon.length; i++) {
      const d = metres(point, [g.lon[i], g.lat[i]]);
      if (d < distance) { distance = d; best = i; }
    }
    return [best, distance];
  }

  class Heap {  // a binary min-heap of [cost, node]
    constructor() { this.items = []; }
    get size() { return this.items.length; }
    push(item) {
      const a = this.items; a.push(item);
      for (let i = a.length - 1; i > 0;) { const p = (i - 1) >> 1; if (a[p][0] <= a[i][0]) break; [a[p], a[i]] = [a[i], a[p]]; i = p; }
    }
    pop() {
      const a = this.items, top = a[0], last = a.pop();
      if (a.length) {
        a[0] = last;
        for (let i = 0; ;) {
          const l = 2 * i + 1, r = l + 1; let m = i;
          if (l < a.length && a[l][0] < a[m][0]) m = l;
          if (r < a.length && a[r][0] < a[m][0]) m = r;
          if (m === i) break; [a[m], a[i]] = [a[i], a[m]]; i = m;
        }
      }
      return top;
    }
  }

  /** The least-cost route on the bundle from ``from`` to ``to`` (lon, lat) in ``mode``, leaving at
      ``depart`` (a Date): { reachable, risk, seconds, length_m, geometry, reason }. */
  function offlineRoute(bundle, from, to, mode, depart) {
    const g = graphOf(bundle), p = bundle.profiles;
    const speed = p.speed_kph[mode], vulnerability = p.area_vulnerability[mode];
    const [origin, d0] = nearest(g, from), [destination, d1] = nearest(g, to);
    if (origin < 0 || d0 > p.max_snap_m || d1 > p.max_snap_m) return { reachable: false, reason: "the point is too far from the city's streets" };
    const start = new Date(bundle.hazard_start || depart).getTime();
    const cost = new Float64Array(g.lon.length).fill(Infinity), time = new Float64Array(g.lon.length);
    const via = new Int32Array(g.lon.length).fill(-1), exposure = new Float64Array(g.lon.length);
    cost[origin] = 0; time[origin] = depart.getTime();
    const heap = new Heap(); heap.push([0, origin]);
    while (heap.size) {
      const [c, u] = heap.pop();
      if (c > cost[u]) continue;
      if (u === destination) break;
      for (const i of g.out[u]) {
        const e = g.edges[i], kph = speed[e.cls] || 0;
        if (!kph || e.state === "other_side") continue;
        const hours = e.length / (kph / 3.6) / 3600;
        const hour = Math.max(0, Math.floor((time[u] - start) / 3600e3));
        const rate = e.rates ? (e.rates[Math.min(hour, e.rates.length - 1)] || 0) : 0;
        const exposed = rate * p.effect_km2 * hours * vulnerability;
        let step = exposed + p.time_weight * hours;
        if (e.state === "contested" || e.state === "unconfirmed") step *= p.grey_penalty;
        if (c + step < cost[e.to]) {
          cost[e.to] = c + step; time[e.to] = time[u] + hours * 3600e3; via[e.to] = i; exposure[e.to] = exposure[u] + exposed;
          heap.push([cost[e.to], e.to]);
        }
      }
    }
    if (!Number.isFinite(cost[destination])) return { reachable: false, reason: "no way on the kept map (the other side's ground is closed)" };
    const path = [];
    for (let v = destination; v !== origin; v = g.edges[via[v]].from) path.push(via[v]);
    path.reverse();
    const coordinates = [];
    for (const i of path) { const e = g.edges[i]; coordinates.push(...(e.reversed ? [...e.line].reverse() : e.line)); }
    const grey = path.filter((i) => ["contested", "unconfirmed"].includes(g.edges[i].state)).reduce((s, i) => s + g.edges[i].length, 0);
    return { reachable: true, risk: -Math.expm1(-exposure[destination]), seconds: (time[destination] - depart.getTime()) / 1000,
      length_m: path.reduce((s, i) => s + g.edges[i].length, 0), grey_m: grey, geometry: { type: "LineString", coordinates } };
  }

  function oneIn(risk, locale = "en-GB", word = "in") {  // "1 in 21,000 (0.0048 %)", as the server says it
    if (risk == null || !Number.isFinite(risk)) return null;
    if (risk <= 0) return "0";
    const percent = 100 * risk, digits = Math.max(0, 1 - Math.floor(Math.log10(percent)));
    const share = percent.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    if (risk >= 0.5) return `${percent.toLocaleString(locale, { maximumFractionDigits: 0 })} %`;
    const n = 1 / risk, scale = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1);
    return `1 ${word} ${(Math.round(n / scale) * scale).toLocaleString(locale)} (${share} %)`;
  }

  window.greyzoneOffline = { kept, offlineRoute, oneIn, graphOf };
})();
