/* greyzone's web map: MapLibre GL JS (bundled, no CDN), a basemap drawn from the city's own streets,
   the API's layers, a time slider, a route planner and a report form. English and Ukrainian. */
"use strict";

const TEXT = {
  en: {
    layers: "Layers", route: "Route", report: "Report", incidents: "Incidents", hazard: "Hazard",
    control: "Control", corridors: "Ways out", time: "Time", hazardHour: "Hazard, hours ahead",
    pickFrom: "From: tap the map", pickTo: "To: tap the map", mode: "Mode", foot: "on foot", bicycle: "bicycle",
    car: "car", armoured: "armoured + EW", window: "Window (Kyiv time)", plan: "Plan the route", token: "Token",
    kind: "What", shelling: "shelling", fpv: "FPV drone", glide: "glide bomb", outage: "outage",
    when: "When (Kyiv time)", note: "Note", tapPlace: "Tap the map where it happened.", send: "Send the report",
    held: "held", other_side: "other side", contested: "contested", unconfirmed: "unconfirmed",
    kyivTime: "Kyiv time", badClock: "Window: HH:MM-HH:MM, 24-hour (Kyiv time)", open: "open", threatened: "threatened", risky: "risky", cut: "cut", asOf: "control as of", notAvailable: "not available yet",
    risk: "risk", minutes: "min", km: "km", depart: "best departure", unknownRisk: "risk unknown",
    riskiest: "where the risk is", noRoute: "no route", sent: "stored, id", refused: "refused",
    pickBoth: "pick both ends on the map first", eventsKm2h: "events per km² per hour",
    aggregated: "counts per cell and hour (public view, delayed)", place: "place",
  },
  uk: {
    layers: "Шари", route: "Маршрут", report: "Повідомити", incidents: "Події", hazard: "Небезпека",
    control: "Контроль", corridors: "Виїзди", time: "Час", hazardHour: "Небезпека, годин наперед",
    pickFrom: "Звідки: торкніться мапи", pickTo: "Куди: торкніться мапи", mode: "Спосіб", foot: "пішки",
    bicycle: "велосипед", car: "авто", armoured: "броня + РЕБ", window: "Вікно (за Києвом)", plan: "Прокласти маршрут",
    token: "Токен", kind: "Що", shelling: "обстріл", fpv: "FPV-дрон", glide: "КАБ", outage: "відключення",
    when: "Коли (за Києвом)", note: "Примітка", tapPlace: "Торкніться мапи там, де це сталося.",
    send: "Надіслати", held: "наша", other_side: "інша сторона", contested: "оспорювана",
    unconfirmed: "непідтверджена", kyivTime: "за Києвом", badClock: "Вікно: ГГ:ХХ–ГГ:ХХ, 24 години (за Києвом)", open: "відкритий", threatened: "під загрозою", risky: "ризикований", cut: "перерізаний",
    asOf: "контроль станом на", notAvailable: "ще недоступно", risk: "ризик", minutes: "хв", km: "км",
    depart: "найкращий виїзд", unknownRisk: "ризик невідомий", riskiest: "де ризик", noRoute: "маршруту немає",
    sent: "збережено, id", refused: "відхилено", pickBoth: "спершу позначте обидві точки на мапі",
    eventsKm2h: "подій на км² за годину", aggregated: "кількість на комірку й годину (публічно, із затримкою)",
    place: "місце",
  },
};
const COLOURS = {
  held: "#3b8bd9", other_side: "#7a0177", contested: "#fd8d3c", unconfirmed: "#8c8c8c",
  open: "#1a9850", threatened: "#e6ab02", risky: "#f46d43", cut: "#111111", incident: "#d7301f", route: "#0050ff",
};

const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") === "uk" ? "uk" : (localStorage.getItem("greyzone.lang") || "en"),
  city: params.get("city"), times: [], timeIndex: 0, hourIndex: 0, picking: null, from: null, to: null,
  place: null, tab: "layers", hazardRows: null,
};
const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[state.lang][key] ?? key);

function translate() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = state.lang === "en" ? "УК" : "EN";
  legend();
}

async function api(path, options = {}) {
  const token = localStorage.getItem("greyzone.token");
  const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
  if (token && options.auth !== false) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(path, Object.assign({}, options, { headers }));
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const error = new Error(body.error ? body.error.message : `HTTP ${answer.status}`);
    error.status = answer.status;
    error.details = body.error ? body.error.details : [];
    throw error;
  }
  return body;
}

const EMPTY = { type: "FeatureCollection", features: [] };

// One clock: people read and type the city's local time (Europe/Kyiv), 24-hour, labelled; the API is
// sent ISO 8601 with the offset that time had in Kyiv.
const KYIV = "Europe/Kyiv";
function kyiv(date) {  // "YYYY-MM-DD HH:MM" in Kyiv
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: KYIV, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
function kyivOffset(local) {  // the offset ("+02:00") Kyiv had at a local "YYYY-MM-DDTHH:MM"
  const guess = new Date(`${local}:00Z`);
  const name = new Intl.DateTimeFormat("en-GB", { timeZone: KYIV, timeZoneName: "longOffset" }).formatToParts(guess)
    .find((p) => p.type === "timeZoneName").value;  // "GMT+02:00"
  return name === "GMT" ? "+00:00" : name.slice(3);
}
const map = new maplibregl.Map({
  container: "map",
  style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f4f1ea" } }] },
  center: [37.18, 48.28], zoom: 12, attributionControl: false,
  canvasContextAttributes: { preserveDrawingBuffer: true },
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");

function addLayers() {
  for (const id of ["streets", "incidents", "hazard", "control", "corridors", "route", "picks"]) {
    map.addSource(id, { type: "geojson", data: EMPTY });
  }
  map.addLayer({ id: "control", type: "fill", source: "control", layout: { visibility: "none" },
    paint: { "fill-color": ["match", ["get", "state"], "held", COLOURS.held, "other_side", COLOURS.other_side,
      "contested", COLOURS.contested, COLOURS.unconfirmed], "fill-opacity": 0.45 } });
  map.addLayer({ id: "hazard", type: "fill", source: "hazard", layout: { visibility: "none" },
    filter: ["has", "rate"],
    paint: { "fill-color": ["interpolate", ["linear"], ["get", "level"], 0, "#ffffb2", 0.5, "#fd8d3c", 1, "#bd0026"],
      "fill-opacity": 0.7 } });
  map.addLayer({ id: "streets", type: "line", source: "streets",
    paint: { "line-color": "#8a8a8a", "line-width": ["match", ["get", "class"], [0, 1, 2], 3, [3, 4], 2, 1] } });
  map.addLayer({ id: "incidents-cells", type: "fill", source: "incidents", layout: { visibility: "none" },
    filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": COLOURS.incident, "fill-opacity": 0.6 } });
  map.addLayer({ id: "incidents", type: "circle", source: "incidents", layout: { visibility: "none" },
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": COLOURS.incident, "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  map.addLayer({ id: "corridors-lines", type: "line", source: "corridors", layout: { visibility: "none" },
    filter: ["==", ["geometry-type"], "LineString"],
    paint: { "line-color": ["match", ["get", "status"], "open", COLOURS.open, "threatened", COLOURS.threatened,
      "risky", COLOURS.risky, COLOURS.cut],
      "line-width": 5, "line-opacity": 0.8 } });
  map.addLayer({ id: "corridors", type: "circle", source: "corridors", layout: { visibility: "none" },
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-color": ["match", ["get", "status"], "open", COLOURS.open, "threatened", COLOURS.threatened,
      "risky", COLOURS.risky, COLOURS.cut],
      "circle-radius": 9, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  map.addLayer({ id: "route", type: "line", source: "route", paint: { "line-color": COLOURS.route, "line-width": 6 } });
  map.addLayer({ id: "picks", type: "circle", source: "picks",
    paint: { "circle-color": "#000", "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
}

const LAYERS = { incidents: ["incidents", "incidents-cells"], hazard: ["hazard"], control: ["control"],
  corridors: ["corridors", "corridors-lines"] };

function at() { return state.times[state.timeIndex]; }

async function load(name) {
  const when = at().toISOString();
  const notice = $("notice");
  try {
    let data;
    if (name === "incidents") {
      const since = new Date(at().getTime() - 24 * 3600e3).toISOString();
      data = await api(`/api/layers/incidents?since=${since}&until=${when}`);
      notice.textContent = data.aggregated ? `${t("incidents")}: ${t("aggregated")}` : "";
    } else if (name === "hazard") {
      data = await api(`/api/layers/hazard?start=${when}&hours=6`);
      state.hazardRows = data;
      data = hazardAtHour(data);
    } else if (name === "control") {
      data = await api(`/api/layers/control?at=${when}`);
      const asOf = data.features.map((f) => f.properties.as_of).filter(Boolean).sort().pop();
      $("asof").textContent = `${t("asOf")} ${asOf ? kyiv(new Date(asOf)) : "—"} ${t("kyivTime")}`;
    } else if (name === "corridors") {
      data = await api(`/api/layers/corridors?city=${encodeURIComponent(state.city)}&at=${when}`);
    }
    window.greyzone.data[name] = data;
    map.getSource(name).setData(data);
  } catch (error) {
    window.greyzone.data[name] = EMPTY;
    map.getSource(name).setData(EMPTY);
    notice.textContent = `${t(name)}: ${error.status === 404 ? t("notAvailable") + " — " : ""}${error.message}`;
  }
}

function hazardAtHour(data) {
  const rates = data.features.map((f) => (f.properties.events_per_km2_h || [])[state.hourIndex]).filter((r) => r != null);
  const top = Math.max(...rates, 1e-12);
  return { type: "FeatureCollection", features: data.features.filter((f) => f.properties.events_per_km2_h).map((f) => {
    const rate = f.properties.events_per_km2_h[state.hourIndex] ?? 0;
    return { type: "Feature", geometry: f.geometry, properties: { rate, level: Math.sqrt(rate / top) } };
  }), top };
}

function legend() {
  const parts = [];
  if ($("layer-control").checked) {
    parts.push(["held", "other_side", "contested", "unconfirmed"].map((s) =>
      `<span><span class="swatch" style="background:${COLOURS[s]}"></span>${t(s)}</span>`).join(" "));
  }
  if ($("layer-hazard").checked && window.greyzone.data.hazard) {
    const top = window.greyzone.data.hazard.top || 0;
    parts.push(`<div>${t("hazard")} (${t("eventsKm2h")}): 0 – ${top.toPrecision(2)}</div><div class="ramp"></div>`);
  }
  if ($("layer-corridors").checked) {
    parts.push(["open", "threatened", "risky", "cut"].map((s) =>
      `<span><span class="swatch" style="background:${COLOURS[s]}"></span>${t(s)}</span>`).join(" "));
    const gates = ((window.greyzone.data.corridors || EMPTY).features || []).filter((f) => f.geometry.type === "Point");
    const esc = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
    parts.push(`<ul class="ways">${gates.map((f) => `<li data-gate="${esc(f.properties.gate)}"><b>${esc(f.properties.gate)}</b>: `
      + `${t(f.properties.status)} — ${esc(String(f.properties.reason).replace(/^[a-z]+: /, ""))}</li>`).join("")}</ul>`);
  }
  $("legend").innerHTML = parts.join("<br>");
}

async function toggle(name) {
  const on = $(`layer-${name}`).checked;
  if (on) await load(name);
  for (const id of LAYERS[name]) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
  legend();
}

async function setTime(index) {
  state.timeIndex = Number(index);
  $("time").value = state.timeIndex;
  $("time-label").textContent = `${kyiv(at())} ${t("kyivTime")}`;
  $("report-time").value = kyiv(at()).replace(" ", "T");
  await Promise.all(Object.keys(LAYERS).filter((n) => $(`layer-${n}`).checked).map((n) => load(n)));
  legend();
}

function picks() {
  const features = [state.from, state.to, state.place].filter(Boolean).map((p) =>
    ({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }));
  map.getSource("picks").setData({ type: "FeatureCollection", features });
}

map.on("click", (event) => {
  const point = [Number(event.lngLat.lng.toFixed(5)), Number(event.lngLat.lat.toFixed(5))];
  if (state.tab === "route" && state.picking) {
    state[state.picking] = point;
    $(`pick-${state.picking}`).classList.remove("picking");
    $(`pick-${state.picking}`).textContent = `${t(state.picking === "from" ? "pickFrom" : "pickTo").split(":")[0]}: ${point.join(", ")}`;
    state.picking = state.picking === "from" && !state.to ? "to" : null;
    if (state.picking) $("pick-to").classList.add("picking");
  } else if (state.tab === "report") {
    state.place = point;
    $("report-place").textContent = `${t("place")}: ${point.join(", ")}`;
  }
  picks();
});

async function plan() {
  const out = $("route-result");
  if (!state.from || !state.to) { out.textContent = t("pickBoth"); return; }
  const clock = /^([01]\d|2[0-3]):[0-5]\d$/;
  if (!clock.test($("win-start").value) || !clock.test($("win-end").value)) { out.textContent = t("badClock"); return; }
  const day = kyiv(at()).slice(0, 10);
  const [h0, m0] = $("win-start").value.split(":").map(Number);
  const [h1, m1] = $("win-end").value.split(":").map(Number);
  const minutes = Math.max(0, (h1 * 60 + m1) - (h0 * 60 + m0));
  out.textContent = "…";
  try {
    const r = await api("/api/route", { method: "POST", body: JSON.stringify({ city: state.city, origin: state.from,
      destination: state.to, mode: $("mode").value, depart: `${day}T${$("win-start").value}:00${kyivOffset(`${day}T${$("win-start").value}`)}`,
      window_minutes: minutes, step_minutes: 30 }) });
    window.greyzone.data.route = r;
    map.getSource("route").setData(r.reachable ? { type: "Feature", geometry: r.geometry, properties: {} } : EMPTY);
    if (!r.reachable) { out.innerHTML = `<p class="big">${t("noRoute")}</p><p>${r.reason}</p>`; return; }
    const risk = r.risk == null ? t("unknownRisk") : `${t("risk")}: ${r.risk_text}`;
    const curve = r.curve.filter((c) => c.risk != null);
    const top = Math.max(...curve.map((c) => c.risk), 1e-12);
    const bars = curve.map((c, i) => `<rect x="${i * 14}" y="${40 - 38 * c.risk / top}" width="11" height="${38 * c.risk / top + 1}" fill="${c.depart === r.depart ? COLOURS.route : "#9e9e9e"}"><title>${c.depart.slice(11, 16)} ${(100 * c.risk).toFixed(3)} %</title></rect>`).join("");
    out.innerHTML = `<p class="big" data-testid="risk">${risk}</p>
      <p>${t("depart")} ${kyiv(new Date(r.depart)).slice(11)} ${t("kyivTime")} · ${r.minutes} ${t("minutes")} · ${(r.length_m / 1000).toFixed(2)} ${t("km")}</p>
      ${curve.length > 1 ? `<svg width="${curve.length * 14}" height="42" role="img" aria-label="exposure over the window">${bars}</svg>` : ""}
      ${r.riskiest.length ? `<p>${t("riskiest")}:</p><table>${r.riskiest.map((s) => `<tr><td>${s.street}</td><td>${Math.round(100 * s.share)} %</td><td>${s.threat}</td><td>${s.entered.slice(11, 16)}</td></tr>`).join("")}</table>` : ""}
      ${(r.warnings || []).map((w) => `<p class="warning">⚠ ${w}</p>`).join("")}
      ${r.notes.map((n) => `<p class="notice">${n}</p>`).join("")}`;
  } catch (error) {
    out.textContent = `${t("refused")}: ${error.message}`;
  }
}

async function send() {
  const out = $("report-result");
  const token = $("token").value.trim();
  if (token) localStorage.setItem("greyzone.token", token);
  if (!state.place) { out.textContent = t("tapPlace"); return; }
  try {
    const answer = await api("/api/reports", { method: "POST", body: JSON.stringify({ kind: $("report-kind").value,
      observed_at: `${$("report-time").value}:00${kyivOffset($("report-time").value)}`, lon: state.place[0], lat: state.place[1],
      location_precision_m: 50, source: "web", text: $("report-text").value || null }) });
    out.textContent = `${t("sent")} ${answer.ids[0]}`;
  } catch (error) {
    const why = (error.details || []).map((d) => `${d.field}: ${d.reason}`).join("; ");
    out.textContent = `${t("refused")}: ${error.message}${why ? " — " + why : ""}`;
  }
}

function tabs() {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      for (const b of document.querySelectorAll("nav button")) b.classList.toggle("on", b === button);
      for (const name of ["layers", "route", "report"]) $(`tab-${name}`).hidden = name !== state.tab;
      if (state.tab === "route" && !state.from) { state.picking = "from"; $("pick-from").classList.add("picking"); }
    });
  }
  $("pick-from").addEventListener("click", () => { state.picking = "from"; $("pick-from").classList.add("picking"); });
  $("pick-to").addEventListener("click", () => { state.picking = "to"; $("pick-to").classList.add("picking"); });
}

async function start() {
  translate();
  tabs();
  $("token").value = localStorage.getItem("greyzone.token") || "";
  const health = await api("/api/span", { auth: false });
  state.city = state.city || health.cities[0] || null;
  const first = new Date(health.first || Date.now()), last = new Date(health.last || Date.now());
  const step = 6 * 3600e3;
  for (let x = Math.floor(first.getTime() / step) * step; x <= last.getTime() + step; x += step) state.times.push(new Date(x));
  $("time").max = state.times.length - 1;
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  addLayers();
  if (state.city) {
    const streets = await fetch(`/api/cities/${encodeURIComponent(state.city)}/streets`).then((r) => r.json());
    map.getSource("streets").setData(streets);
    const bounds = new maplibregl.LngLatBounds();
    for (const f of streets.features) for (const c of f.geometry.coordinates) bounds.extend(c);
    if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 20, duration: 0 });
  } else {
    $("notice").textContent = `${t("route")}: ${t("notAvailable")} (greyzone city import)`;
  }
  for (const name of Object.keys(LAYERS)) $(`layer-${name}`).addEventListener("change", () => toggle(name));
  $("time").addEventListener("input", (e) => setTime(e.target.value));
  $("hour").addEventListener("input", (e) => {
    state.hourIndex = Number(e.target.value);
    $("hour-label").textContent = `+${state.hourIndex} h`;
    if (state.hazardRows) {
      window.greyzone.data.hazard = hazardAtHour(state.hazardRows);
      map.getSource("hazard").setData(window.greyzone.data.hazard);
      legend();
    }
  });
  $("plan").addEventListener("click", plan);
  $("send").addEventListener("click", send);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "uk" : "en";
    localStorage.setItem("greyzone.lang", state.lang);
    translate();
  });
  await setTime(state.times.length - 1);
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
}

window.greyzone = { map, state, data: {}, setTime, toggle };
window.greyzone.ready = start().then(() => true, (error) => { $("notice").textContent = error.message; throw error; });
