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
    offline: "offline", offlineData: "no network — showing the data kept from", old: "old",
    offlineRoute: "offline estimate, planned in this browser from the kept data of", leavesOut: "leaves out",
    queued: "kept on this device, sent when the network returns", waiting: "waiting to be sent",
    tokenRefused: "the token was refused (revoked?) — the reports are kept; enter a new token and send again",
    mapAt: "map at", since: "since", evidence: "evidence", count: "count", range: "range", modes: "by mode",
    grey: "grey ground", usual: "× the usual level", pickAvoid: "Avoid: tap the map", clearAvoid: "Clear avoided",
    reach: "Where can I get from here?", reachMinutes: "Minutes", reached: "streets reached within", below: "below a risk of", strikes: "strikes on the road", usualLevel: "usual level ▲",
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
    offline: "офлайн", offlineData: "немає мережі — показано дані, збережені", old: "тому",
    offlineRoute: "офлайн-оцінка, прокладена в цьому браузері за збереженими даними від", leavesOut: "не враховує",
    queued: "збережено на пристрої, буде надіслано, щойно з'явиться мережа", waiting: "чекають на надсилання",
    tokenRefused: "токен відхилено (відкликано?) — повідомлення збережено; введіть новий токен і надішліть знову",
    mapAt: "мапа на", since: "з", evidence: "підстави", count: "кількість", range: "діапазон", modes: "за способом",
    grey: "сіра зона", usual: "× від звичайного рівня", pickAvoid: "Уникати: торкніться мапи", clearAvoid: "Скинути уникнення",
    reach: "Куди можна дістатися звідси?", reachMinutes: "Хвилин", reached: "вулиць досяжно за", below: "з ризиком не більше", strikes: "удари на дорозі", usualLevel: "звичайний рівень ▲",
  },
};
// What the server says with a code (warnings, errors), said in the page's language from its figures.
const THREATS = {
  en: { shelling: "shelling", glide_bomb: "glide bombs", missile: "missiles", air_strike: "air strikes",
    fpv_strike: "FPV drones", drone_drop: "drone drops", mine_uxo: "mines and UXO", clash: "clashes",
    mortars: "mortars", "FPV drones": "FPV drones", "tube artillery": "tube artillery" },
  uk: { shelling: "обстріли", glide_bomb: "КАБи", missile: "ракети", air_strike: "авіаудари",
    fpv_strike: "FPV-дрони", drone_drop: "скиди з дронів", mine_uxo: "міни та ВНП", clash: "бої",
    mortars: "міномети", "FPV drones": "FPV-дрони", "tube artillery": "ствольна артилерія" },
};
const threat = (name) => THREATS[state.lang][name] ?? name;
const SAID = {
  en: {
    no_model: (p) => `${threat(p.threat)}: no model — this risk leaves them out (${p.incidents} incidents in the last ${p.days} days)`,
    near_ground: (p) => `this route passes ${num(p.km)} km from ${p.ground === "grey" ? "grey ground" : "the other side's ground"} at km ${num(p.at_km)}: within reach of ${p.reaches.map((r) => `${threat(r.threat)} (${num(r.km)} km)`).join(", ")}`,
    road_strikes: (p) => `${p.strikes} FPV or drone strikes within ${p.within_m} m of this route in the last ${p.hours} h`,
    crosses_grey: (p) => `this route crosses ${num(p.km)} km of grey or unconfirmed ground`,
    front_unknown: () => "who holds what is unknown (no control observations): no warning can be given about the front",
    mines_closed: (p) => `${p.streets} streets closed by mine or UXO reports of the last ${p.days} days (never taken)`,
    mines_on_route: (p) => `this route takes ${p.streets} streets with older mine or UXO reports (${p.min_days}–${p.max_days} days old: ${p.names.join(", ")}): check they were cleared`,
    no_hazard_model: () => "no fitted hazard model: risk unknown",
    model_no_data: (p) => `the ${p.kinds.map(threat).join(", ")} model has no data before this time: left out, risk unknown`,
    model_stale: (p) => `the ${p.kinds.map(threat).join(", ")} model is ${p.hours} h old: left out, risk unknown`,
    no_control: () => "no control observations: the route ignores who holds what",
    approximate: () => "approximate: each street charged the hour one reaches it on the fastest way",
    no_timezone: () => "the city has no time zone set: times are shown in UTC",
    avoided: (p) => `areas to avoid: ${p.closed} streets closed, ${p.dearer} dearer`,
  },
  uk: {
    no_model: (p) => `${threat(p.threat)}: немає моделі — цей ризик їх не враховує (${p.incidents} подій за останні ${p.days} дн.)`,
    near_ground: (p) => `маршрут проходить за ${num(p.km)} км від ${p.ground === "grey" ? "сірої зони" : "території іншої сторони"} на ${num(p.at_km)} км: у межах досяжності ${p.reaches.map((r) => `${threat(r.threat)} (${num(r.km)} км)`).join(", ")}`,
    road_strikes: (p) => `${p.strikes} ударів FPV-дронів або скидів у межах ${p.within_m} м від маршруту за останні ${p.hours} год`,
    crosses_grey: (p) => `маршрут перетинає ${num(p.km)} км сірої або непідтвердженої зони`,
    front_unknown: () => "невідомо, хто що контролює (немає спостережень): попередити про фронт неможливо",
    mines_closed: (p) => `${p.streets} вулиць закрито через повідомлення про міни чи ВНП за останні ${p.days} дн. (не використовуються)`,
    mines_on_route: (p) => `маршрут проходить ${p.streets} вулицями зі старішими повідомленнями про міни чи ВНП (${p.min_days}–${p.max_days} дн.: ${p.names.join(", ")}): перевірте, чи їх розміновано`,
    no_hazard_model: () => "немає навченої моделі небезпеки: ризик невідомий",
    model_no_data: (p) => `модель (${p.kinds.map(threat).join(", ")}) не має даних до цього часу: не врахована, ризик невідомий`,
    model_stale: (p) => `модель (${p.kinds.map(threat).join(", ")}) застаріла на ${p.hours} год: не врахована, ризик невідомий`,
    no_control: () => "немає спостережень контролю: маршрут не зважає, хто що контролює",
    approximate: () => "наближено: кожну вулицю оцінено за годиною, коли до неї дістаються найшвидшим шляхом",
    no_timezone: () => "для міста не задано часовий пояс: час показано в UTC",
    avoided: (p) => `зони уникнення: закрито вулиць — ${p.closed}, дорожче — ${p.dearer}`,
  },
};
const ERRORS = {
  en: { invalid: "the request was refused: check the fields", not_available: "not available yet", not_json: "the request is not JSON",
    too_large: "the request is too large", invalid_reports: "the report was refused", idempotency_conflict: "this report was already sent with other contents",
    exists: "it exists already", unauthenticated: "the token was not accepted", forbidden: "your role may not do this",
    rate_limited: "too many requests — try again in a minute", internal: "the server failed", offline: "offline", http: "the request failed" },
  uk: { invalid: "запит відхилено: перевірте поля", not_available: "ще недоступно", not_json: "запит не у форматі JSON",
    too_large: "запит завеликий", invalid_reports: "повідомлення відхилено", idempotency_conflict: "це повідомлення вже надіслано з іншим змістом",
    exists: "вже існує", unauthenticated: "токен не прийнято", forbidden: "ваша роль не дозволяє цього",
    rate_limited: "забагато запитів — спробуйте за хвилину", internal: "збій сервера", offline: "немає мережі", http: "запит не вдався" },
};
const warningText = (w) => (SAID[state.lang][w.code] ? SAID[state.lang][w.code](w.params) : w.text);
const errorText = (error) => (error.code && ERRORS[state.lang][error.code]) || error.message;
const locale = () => (state.lang === "uk" ? "uk-UA" : "en-GB");
const num = (x, digits = 1) => (x == null ? "" : Number(x).toLocaleString(locale(), { maximumFractionDigits: digits }));
const oneInText = (risk) => {  // the risk in the page's language, from the number
  if (risk == null) return t("unknownRisk");
  const said = greyzoneOffline.oneIn(risk, locale(), state.lang === "uk" ? "з" : "in");
  return `${state.lang === "uk" ? "приблизно" : "about"} ${said}`;
};

const COLOURS = {
  held: "#3b8bd9", other_side: "#7a0177", contested: "#fd8d3c", unconfirmed: "#8c8c8c",
  open: "#1a9850", threatened: "#e6ab02", risky: "#f46d43", cut: "#111111", incident: "#d7301f", route: "#0050ff",
};

const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") === "uk" ? "uk" : (localStorage.getItem("greyzone.lang") || "en"),
  city: params.get("city"), times: [], timeIndex: 0, hourIndex: 0, picking: null, from: null, to: null,
  place: null, tab: "layers", hazardRows: null, avoid: [],
};
const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[state.lang][key] ?? key);

// An element whose text is a UI string (and what follows it): said again when the language changes.
function said(el, key, rest = "") {
  el.dataset.said = key;
  el.dataset.rest = rest;
  el.textContent = `${t(key)}${rest}`;
}

function translate() {
  for (const el of document.querySelectorAll("[data-said]")) el.textContent = `${t(el.dataset.said)}${el.dataset.rest}`;
  for (const p of state.places || []) p.el.textContent = placeName(p.names);
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = state.lang === "en" ? "УК" : "EN";
  legend();
  if (window.greyzone && window.greyzone.data.route && !window.greyzone.data.route.offline) renderRoute(window.greyzone.data.route);
  if (window.greyzone && window.greyzone.data.reach) renderReach(window.greyzone.data.reach);
  if (state.times.length) $("time-label").textContent = `${kyiv(at())} ${t("kyivTime")}`;
}

let pending = 0;
function busy(step) {
  pending += step;
  $("loading").hidden = pending <= 0;
}

// Messages queue (newest first, five kept), never overwrite one another.
function say(text) {
  if (!text) return;
  const p = document.createElement("p");
  p.textContent = text;
  $("notice").prepend(p);
  while ($("notice").children.length > 5) $("notice").lastChild.remove();
}

// Data served from what the service worker kept (no network): the banner says from when.
function showKept(fetched) {
  const when = new Date(fetched);
  if (!state.keptSince || when < state.keptSince) state.keptSince = when;
  const hours = Math.max(0, (Date.now() - state.keptSince.getTime()) / 3600e3);
  const banner = $("offline-banner");
  banner.hidden = false;
  banner.textContent = `${t("offlineData")} ${kyiv(state.keptSince)} ${t("kyivTime")} (${hours < 1 ? Math.round(hours * 60) + " min" : hours.toFixed(1) + " h"} ${t("old")})`;
}

async function api(path, options = {}) {
  const token = localStorage.getItem("greyzone.token");
  const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
  if (token && options.auth !== false) headers.Authorization = `Bearer ${token}`;
  busy(1);
  let answer;
  try {
    answer = await fetch(path, Object.assign({}, options, { headers }));
  } catch (cause) {
    const error = new Error(t("offline"));
    error.offline = true;
    throw error;
  } finally {
    busy(-1);
  }
  if (answer.headers.get("x-greyzone-fetched")) showKept(answer.headers.get("x-greyzone-fetched"));
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const error = new Error(body.error ? body.error.message : `HTTP ${answer.status}`);
    error.status = answer.status;
    error.code = body.error ? body.error.code : null;
    error.offline = Boolean(answer.headers.get("x-greyzone-offline"));
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
  for (const id of ["streets", "incidents", "hazard", "control", "corridors", "route", "picks", "avoid", "reach"]) {
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
  map.addLayer({ id: "reach", type: "line", source: "reach",
    paint: { "line-color": ["interpolate", ["linear"], ["get", "minutes"], 0, "#1a9850", 30, "#a6d96a"], "line-width": 4, "line-opacity": 0.8 } });
  map.addLayer({ id: "avoid", type: "fill", source: "avoid", paint: { "fill-color": "#b71c1c", "fill-opacity": 0.35 } });
  map.addLayer({ id: "avoid-edge", type: "line", source: "avoid", paint: { "line-color": "#b71c1c", "line-width": 2 } });
  map.addLayer({ id: "route", type: "line", source: "route", paint: { "line-color": COLOURS.route, "line-width": 6 } });
  map.addLayer({ id: "picks", type: "circle", source: "picks",  // the route's ends: the route's blue, not a gate's
    paint: { "circle-color": "#fff", "circle-radius": 8, "circle-stroke-color": COLOURS.route, "circle-stroke-width": 4 } });
}

const LAYERS = { incidents: ["incidents", "incidents-cells"], hazard: ["hazard"], control: ["control"],
  corridors: ["corridors", "corridors-lines"] };

function at() { return state.times[state.timeIndex]; }

async function load(name) {
  const when = at().toISOString();
  try {
    let data;
    if (name === "incidents") {
      const since = new Date(at().getTime() - 24 * 3600e3).toISOString();
      data = await api(`/api/layers/incidents?since=${since}&until=${when}`);
      if (data.aggregated) say(`${t("incidents")}: ${t("aggregated")}`);
    } else if (name === "hazard") {
      data = await api(`/api/layers/hazard?start=${when}&hours=6`);
      state.hazardRows = data;
      data = hazardAtHour(data);
    } else if (name === "control") {
      data = await api(`/api/layers/control?at=${when}`);
      const asOf = data.features.map((f) => f.properties.as_of).filter(Boolean).sort().pop();
      $("asof").textContent = `${t("mapAt")} ${kyiv(at())} · ${t("asOf")} ${asOf ? kyiv(new Date(asOf)) : "—"} ${t("kyivTime")}`;
    } else if (name === "corridors") {
      data = await api(`/api/layers/corridors?city=${encodeURIComponent(state.city)}&at=${when}`);
    }
    window.greyzone.data[name] = data;
    map.getSource(name).setData(data);
  } catch (error) {
    const bundle = error.offline && ["hazard", "control"].includes(name) ? await greyzoneOffline.kept.bundle(state.city) : null;
    if (bundle && bundle[name]) {  // offline: what the page kept (the banner says from when)
      showKept(bundle.fetched);
      if (name === "hazard") state.hazardRows = bundle.hazard;
      const data = name === "hazard" ? hazardAtHour(bundle.hazard) : bundle.control;
      window.greyzone.data[name] = data;
      map.getSource(name).setData(data);
      return;
    }
    window.greyzone.data[name] = EMPTY;
    map.getSource(name).setData(EMPTY);
    say(`${t(name)}: ${errorText(error)}`);
  }
}

function hazardAtHour(data) {
  // one colour scale for every hour of the forecast: a calm hour looks calm beside a bad one
  const rates = data.features.flatMap((f) => f.properties.events_per_km2_h || []).filter((r) => r != null);
  const top = Math.max(...rates, 1e-12);
  return { type: "FeatureCollection", features: data.features.filter((f) => f.properties.events_per_km2_h).map((f) => {
    const rate = f.properties.events_per_km2_h[state.hourIndex] ?? 0;
    return { type: "Feature", geometry: f.geometry, properties: { rate, level: Math.sqrt(rate / top) } };
  }), top, usual: data.usual_events_per_km2_h };
}

function legend() {
  const parts = [];
  if ($("layer-control").checked) {
    parts.push(["held", "other_side", "contested", "unconfirmed"].map((s) =>
      `<span><span class="swatch" style="background:${COLOURS[s]}"></span>${t(s)}</span>`).join(" "));
  }
  if ($("layer-hazard").checked && window.greyzone.data.hazard) {
    const top = window.greyzone.data.hazard.top || 0;
    const usual = window.greyzone.data.hazard.usual;  // the area's usual level, marked on the fixed scale
    const mark = usual > 0 && top > 0 ? `<div class="usual" style="left:${(100 * Math.min(1, Math.sqrt(usual / top))).toFixed(1)}%" title="${t("usualLevel")}"></div>` : "";
    parts.push(`<div>${t("hazard")} (${t("eventsKm2h")}): 0 – ${num(top, 4)}${usual > 0 ? `; ${t("usualLevel")} ${num(usual, 4)}` : ""}</div><div class="ramp">${mark}</div>`);
  }
  if ($("layer-corridors").checked) {
    parts.push(["open", "threatened", "risky", "cut"].map((s) =>
      `<span><span class="swatch" style="background:${COLOURS[s]}"></span>${t(s)}</span>`).join(" "));
    const gates = ((window.greyzone.data.corridors || EMPTY).features || []).filter((f) => f.geometry.type === "Point");
    const esc = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
    const why = (p) => (state.lang === "en" ? String(p.reason).replace(/^[a-z]+: /, "")  // the server's words
      : [`${t("since")} ${p.since}`, p.other_side_km != null ? `${t("other_side")}: ${num(p.other_side_km)} ${t("km")}` : "",
        p.grey_km != null ? `${t("grey")}: ${num(p.grey_km)} ${t("km")}` : "", p.strikes ? `${t("strikes")}: ${p.strikes}` : ""]
        .filter(Boolean).join("; "));
    parts.push(`<ul class="ways">${gates.map((f) => `<li data-gate="${esc(f.properties.gate)}"><b>${esc(f.properties.gate)}</b>: `
      + `${t(f.properties.status)} — ${esc(why(f.properties))}</li>`).join("")}</ul>`);
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
  $("asof").textContent = `${t("mapAt")} ${kyiv(at())} ${t("kyivTime")}`;
  $("report-time").value = kyiv(at()).replace(" ", "T");
  await Promise.all(Object.keys(LAYERS).filter((n) => $(`layer-${n}`).checked).map((n) => load(n)));
  legend();
}

const AVOID_M = 200;  // a tapped area to avoid: this radius around the tap
function circle([x, y], metres) {  // a 32-gon of that radius (lon/lat), for drawing
  const dx = metres / (111320 * Math.cos((y * Math.PI) / 180)), dy = metres / 110540;
  const ring = Array.from({ length: 33 }, (_, i) => [x + dx * Math.cos((i * Math.PI) / 16), y + dy * Math.sin((i * Math.PI) / 16)]);
  return { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: {} };
}
function avoided() {
  map.getSource("avoid").setData({ type: "FeatureCollection", features: state.avoid.map((p) => circle(p, AVOID_M)) });
}

function picks() {
  const features = [state.from, state.to, state.place].filter(Boolean).map((p) =>
    ({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }));
  map.getSource("picks").setData({ type: "FeatureCollection", features });
}

map.on("click", (event) => {
  const point = [Number(event.lngLat.lng.toFixed(5)), Number(event.lngLat.lat.toFixed(5))];
  if (state.tab === "route" && state.picking === "avoid") {
    state.avoid.push(point);
    avoided();
    return;
  }
  if (state.tab === "route" && state.picking) {
    state[state.picking] = point;
    $(`pick-${state.picking}`).classList.remove("picking");
    $(`pick-${state.picking}`).textContent = `${t(state.picking === "from" ? "pickFrom" : "pickTo").split(":")[0]}: ${point.join(", ")}`;
    state.picking = state.picking === "from" && !state.to ? "to" : null;
    if (state.picking) $("pick-to").classList.add("picking");
  } else if (state.tab === "report") {
    state.place = point;
    said($("report-place"), "place", `: ${point.join(", ")}`);
  }
  picks();
});

function windowDeparture() {  // the window's first departure (ISO with Kyiv's offset) and its length in minutes
  const day = kyiv(at()).slice(0, 10);
  const [h0, m0] = $("win-start").value.split(":").map(Number);
  const [h1, m1] = $("win-end").value.split(":").map(Number);
  let minutes = (h1 * 60 + m1) - (h0 * 60 + m0);
  if (minutes < 0) minutes += 24 * 60;  // a window across midnight
  return [`${day}T${$("win-start").value}:00${kyivOffset(`${day}T${$("win-start").value}`)}`, minutes];
}

async function planOffline(depart) {
  const out = $("route-result");
  const bundle = await greyzoneOffline.kept.bundle(state.city);
  if (!bundle) { out.textContent = `${t("offline")}: ${t("notAvailable")}`; return; }
  const started = performance.now();
  const r = greyzoneOffline.offlineRoute(bundle, state.from, state.to, $("mode").value, new Date(depart));
  r.offline = true; r.ms = performance.now() - started; r.depart = depart;
  window.greyzone.data.route = r;
  map.getSource("route").setData(r.reachable ? { type: "Feature", geometry: r.geometry, properties: {} } : EMPTY);
  if (!r.reachable) { out.innerHTML = `<p class="big">${t("noRoute")}</p><p>${r.reason}</p>`; return; }
  out.innerHTML = `<p class="big" data-testid="risk">${t("risk")}: ${greyzoneOffline.oneIn(r.risk)}</p>
    <p class="warning">${t("offlineRoute")} ${kyiv(new Date(bundle.fetched))} ${t("kyivTime")}</p>
    <p>${kyiv(new Date(depart)).slice(11)} ${t("kyivTime")} · ${(r.seconds / 60).toFixed(0)} ${t("minutes")} · ${(r.length_m / 1000).toFixed(2)} ${t("km")}${r.grey_m ? ` · ${t("grey")} ${(r.grey_m / 1000).toFixed(1)} ${t("km")}` : ""}</p>
    <p class="notice">${t("leavesOut")}: ${bundle.profiles.leaves_out}</p>`;
}

async function plan() {
  const out = $("route-result");
  if (!state.from || !state.to) { out.textContent = t("pickBoth"); return; }
  const clock = /^([01]\d|2[0-3]):[0-5]\d$/;
  if (!clock.test($("win-start").value) || !clock.test($("win-end").value)) { out.textContent = t("badClock"); return; }
  const [depart, minutes] = windowDeparture();
  out.textContent = "…";
  try {
    const r = await api("/api/route", { method: "POST", body: JSON.stringify({ city: state.city, origin: state.from,
      destination: state.to, mode: $("mode").value, depart, window_minutes: minutes, step_minutes: 30,
      avoid: state.avoid.map((p) => ({ geometry: { type: "Point", coordinates: p }, radius_m: AVOID_M })) }) });
    window.greyzone.data.route = r;
    map.getSource("route").setData(r.reachable ? { type: "Feature", geometry: r.geometry, properties: {} } : EMPTY);
    renderRoute(r);
    $("panel").scrollTop = out.offsetTop - $("panel").offsetTop;  // the result in view (on a phone: under the map)
  } catch (error) {
    if (error.offline) { await planOffline(depart); return; }
    out.textContent = `${t("refused")}: ${errorText(error)}`;
  }
}

function renderRoute(r) {
  const out = $("route-result");
  const esc = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  {
    if (!r.reachable) { out.innerHTML = `<p class="big">${t("noRoute")}</p><p>${esc(r.reason)}</p>`; return; }
    const risk = r.risk == null ? t("unknownRisk") : `${t("risk")}: ${oneInText(r.risk)}`;
    const between = r.risk_range ? `${oneInText(r.risk_range[0]).split(" (")[0]} – ${oneInText(r.risk_range[1]).split(" (")[0].replace(/^(about|приблизно) /, "")}` : "";
    const curve = r.curve.filter((c) => c.risk != null);
    const top = Math.max(...curve.map((c) => c.risk), 1e-12);
    const bars = curve.map((c, i) => `<rect x="${i * 14}" y="${40 - 38 * c.risk / top}" width="11" height="${38 * c.risk / top + 1}" fill="${c.depart === r.depart ? COLOURS.route : "#9e9e9e"}"><title>${kyiv(new Date(c.depart)).slice(11)} ${num(100 * c.risk, 4)} %</title></rect>`).join("");
    const modes = (r.modes || []).map((m) => `<tr><td>${t(m.mode)}</td><td>${m.reachable ? oneInText(m.risk) : t("noRoute")}</td><td>${m.minutes == null ? "" : `${num(m.minutes, 0)} ${t("minutes")}`}</td></tr>`).join("");
    const grey = (r.grey || []).map((g) => `<p class="warning">⚠ ${t("grey")}: ${esc(g.street)}, ${num(g.km)} ${t("km")} (${t(g.state)}) ${t("since")} ${g.since_is_lower_bound ? "≤ " : ""}${g.since}</p>`).join("");
    out.innerHTML = `<p class="big" data-testid="risk">${risk}</p>
      ${between ? `<p>${t("range")}: ${between}</p>` : ""}
      ${r.vs_usual ? `<p>${num(r.vs_usual, 2)}${t("usual")}</p>` : ""}
      <p>${t("depart")} ${kyiv(new Date(r.depart)).slice(11)} ${t("kyivTime")} · ${num(r.minutes, 0)} ${t("minutes")} · ${num(r.length_m / 1000, 2)} ${t("km")}</p>
      ${curve.length > 1 ? `<svg width="${curve.length * 14}" height="42" role="img" aria-label="exposure over the window">${bars}</svg>` : ""}
      ${grey}
      ${(r.warning_codes || []).map((w) => `<p class="warning">⚠ ${esc(warningText(w))}</p>`).join("")}
      ${r.riskiest.length ? `<p>${t("riskiest")}:</p><table>${r.riskiest.map((s) => `<tr><td>${esc(s.street)}</td><td>${Math.round(100 * s.share)} %</td><td>${esc(threat(s.threat))}</td><td>${kyiv(new Date(s.entered)).slice(11)}</td></tr>`).join("")}</table>` : ""}
      ${modes ? `<p>${t("modes")}:</p><table>${modes}</table>` : ""}
      ${(r.note_codes || []).map((n) => `<p class="notice">${esc(warningText(n))}</p>`).join("")}`;
  }
}

const REACH_RISK = 1e-4;  // the reach drawn: below about 1 in 10,000
async function reachFrom() {
  const out = $("reach-result");
  if (!state.from) { out.textContent = t("pickBoth"); return; }
  const [depart] = windowDeparture();
  const minutes = Math.min(240, Math.max(1, Number($("reach-minutes").value) || 20));
  try {
    const r = await api("/api/reach", { method: "POST", body: JSON.stringify({ city: state.city, origin: state.from,
      mode: $("mode").value, depart, minutes, max_risk: REACH_RISK,
      avoid: state.avoid.map((p) => ({ geometry: { type: "Point", coordinates: p }, radius_m: AVOID_M })) }) });
    window.greyzone.data.reach = r;
    map.getSource("reach").setData(r);
    renderReach(r);
  } catch (error) {
    out.textContent = `${t("refused")}: ${errorText(error)}`;
  }
}

function renderReach(r) {  // said again when the language changes
  $("reach-result").textContent = `${num(r.features.length, 0)} ${t("reached")} ${num(r.minutes, 0)} ${t("minutes")}`
    + (r.max_risk != null ? ` ${t("below")} ${oneInText(r.max_risk).split(" (")[0]}` : ` (${t("unknownRisk")})`);
}

function reportBody() {
  return { kind: $("report-kind").value,
    observed_at: `${$("report-time").value}:00${kyivOffset($("report-time").value)}`, lon: state.place[0], lat: state.place[1],
    location_precision_m: 50, source: "web", text: $("report-text").value || null };
}

async function post(item) {
  return api("/api/reports", { method: "POST", body: JSON.stringify(item.body), headers: { "Idempotency-Key": item.key } });
}

async function showOutbox() {
  const waiting = (await greyzoneOffline.kept.queued()).length;
  $("outbox").textContent = waiting ? `${waiting} ${t("waiting")}` : "";
  return waiting;
}

// Reports typed offline wait in IndexedDB and go with their Idempotency-Key when the network returns:
// none lost (kept until the server stored it), none doubled (the key makes a resend the same report).
async function flush() {
  if (state.flushing) return state.flushing;
  state.flushing = (async () => {
    for (const item of await greyzoneOffline.kept.queued()) {
      try {
        const answer = await post(item);
        await greyzoneOffline.kept.done(item.key);
        said($("report-result"), "sent", ` ${answer.ids[0]}`);
      } catch (error) {
        if (error.offline) break;
        if (error.status === 401 || error.status === 403) { said($("report-result"), "tokenRefused"); break; }
        say(`${t("report")}: ${t("refused")}: ${errorText(error)}`);  // kept: nothing typed is dropped
        break;
      }
    }
    await showOutbox();
  })().finally(() => { state.flushing = null; });
  return state.flushing;
}

async function send() {
  const out = $("report-result");
  const token = $("token").value.trim();
  if (token) localStorage.setItem("greyzone.token", token);
  if (!state.place) { out.textContent = t("tapPlace"); return; }
  const item = { key: crypto.randomUUID(), body: reportBody(), typed_at: new Date().toISOString() };
  try {
    await flush();  // what waits goes first
    const answer = await post(item);
    said(out, "sent", ` ${answer.ids[0]}`);
  } catch (error) {
    if (error.offline) {
      await greyzoneOffline.kept.queue(item);
      said(out, "queued");
      await showOutbox();
      return;
    }
    const why = (error.details || []).map((d) => `${d.field}: ${d.reason}`).join("; ");
    out.textContent = `${t("refused")}: ${errorText(error)}${why ? " — " + why : ""}`;
  }
}

// What the page keeps for the field: the city's streets, the control map and 24 h of hazard forecast.
async function keepBundle(streets, cities) {
  const latest = state.times[state.times.length - 1];
  const [hazard, control] = await Promise.all([
    api(`/api/layers/hazard?start=${latest.toISOString()}&hours=24`).catch(() => null),
    api(`/api/layers/control?at=${latest.toISOString()}`).catch(() => null),
  ]);
  await greyzoneOffline.kept.saveBundle(state.city, { streets, hazard, control, profiles: cities.offline,
    hazard_start: latest.toISOString(), fetched: new Date().toISOString() });
  return true;
}

// Labels as HTML over the map (no glyph server needed, works offline): settlements from the service's
// gazetteer, the city's gates, and each named street once (its longest stretch), shown when zoomed in.
function label(text, lonlat, kind) {
  const el = document.createElement("div");
  el.className = `label ${kind}`;
  el.textContent = text;
  el.dataset.lon = lonlat[0];
  el.dataset.lat = lonlat[1];
  new maplibregl.Marker({ element: el, anchor: kind === "gate" ? "top" : "center" }).setLngLat(lonlat).addTo(map);
  return el;
}

function placeName(names) {  // the spelling in the page's language where the gazetteer has one
  const cyrillic = (n) => /[\u0400-\u04FF]/.test(n);
  return names.find((n) => cyrillic(n) === (state.lang === "uk")) || names[0];
}

async function labels(streets, city, bounds) {
  const longest = new Map();
  for (const f of streets.features) {
    const name = f.properties.name, line = f.geometry.coordinates;
    if (!name || line.length < 2) continue;
    let length = 0;
    for (let i = 1; i < line.length; i++) length += Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]);
    if (!longest.has(name) || longest.get(name)[0] < length) longest.set(name, [length, line[Math.floor(line.length / 2)]]);
  }
  for (const [name, [, middle]] of longest) label(name, middle, "street");
  for (const g of (city && city.gates) || []) label(g.name, [g.lon, g.lat], "gate");
  const far = () => $("map").classList.toggle("far", map.getZoom() < 13.5);
  map.on("zoomend", far);
  far();
  if (bounds.isEmpty()) return;
  const pad = 0.05, b = [bounds.getWest() - pad, bounds.getSouth() - pad, bounds.getEast() + pad, bounds.getNorth() + pad];
  try {
    const places = await api(`/api/places?bbox=${b.map((x) => x.toFixed(3)).join(",")}`, { auth: false });
    window.greyzone.data.places = places;
    // one label per settlement: its names (Ukrainian and English spellings) gathered within ~1 km
    const groups = [];
    for (const f of places.features) {
      const [x, y] = f.geometry.coordinates;
      const near = groups.find((g) => Math.abs(g.at[0] - x) < 0.015 && Math.abs(g.at[1] - y) < 0.01);
      if (near) near.names.push(f.properties.name);
      else groups.push({ at: [x, y], names: [f.properties.name], category: f.properties.category });
    }
    state.places = groups.map((g) => ({ names: g.names, el: label(placeName(g.names), g.at, `place cat-${g.category}`) }));
  } catch (error) {
    window.greyzone.data.places = EMPTY;  // no gazetteer: no place labels (the service says why at /api/places)
  }
}

function popups() {
  const esc = (text) => String(text ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const show = (event, html) => new maplibregl.Popup({ closeButton: true }).setLngLat(event.lngLat).setHTML(html).addTo(map);
  map.on("click", "control", (e) => {
    if (state.tab !== "layers") return;
    const p = e.features[0].properties;
    show(e, `<b>${t(p.state)}</b><br>${t("asOf")} ${p.as_of ? kyiv(new Date(p.as_of)) + " " + t("kyivTime") : "—"}`
      + (p.evidence ? `<br>${t("evidence")}: ${esc(p.evidence)}` : ""));
  });
  map.on("click", "corridors", (e) => {
    const p = e.features[0].properties;
    show(e, `<b>${esc(p.gate)}</b>: ${t(p.status)}<br>${t("since")} ${esc(p.since)}<br>${esc(p.reason)}`);
  });
  map.on("click", "hazard", (e) => {
    const p = e.features[0].properties;
    const usual = (window.greyzone.data.hazard || {}).usual;
    show(e, `${t("hazard")}: ${num(p.rate, 4)} ${t("eventsKm2h")}`
      + (usual > 0 ? `<br>${num(p.rate / usual, 1)}${t("usual")}` : ""));
  });
  for (const id of ["incidents", "incidents-cells"]) {
    map.on("click", id, (e) => {
      const p = e.features[0].properties;
      show(e, `<b>${esc(p.kind || t("incidents"))}</b>${p.count != null ? `<br>${t("count")}: ${p.count}` : ""}`
        + (p.observed_at ? `<br>${kyiv(new Date(p.observed_at))} ${t("kyivTime")}` : ""));
    });
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
  $("pick-from").addEventListener("click", () => { $("pick-avoid").classList.remove("picking"); state.picking = "from"; $("pick-from").classList.add("picking"); });
  $("pick-to").addEventListener("click", () => { $("pick-avoid").classList.remove("picking"); state.picking = "to"; $("pick-to").classList.add("picking"); });
  $("pick-avoid").addEventListener("click", () => { state.picking = "avoid"; $("pick-avoid").classList.add("picking"); });
  $("clear-avoid").addEventListener("click", () => { state.avoid = []; avoided(); });
}

async function start() {
  translate();
  tabs();
  $("token").value = localStorage.getItem("greyzone.token") || "";
  if ("serviceWorker" in navigator) {
    window.greyzone.worker = navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => say(e.message));
  }
  if (!navigator.onLine) showKept(new Date().toISOString());
  const health = await api("/api/span", { auth: false });
  state.city = state.city || health.cities[0] || null;
  const first = new Date(health.first || Date.now()), last = new Date(health.last || Date.now());
  const step = 6 * 3600e3;
  for (let x = Math.floor(first.getTime() / step) * step; x <= last.getTime() + step; x += step) state.times.push(new Date(x));
  $("time").max = state.times.length - 1;
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  addLayers();
  if (state.city) {
    const streets = await api(`/api/cities/${encodeURIComponent(state.city)}/streets`, { auth: false });
    map.getSource("streets").setData(streets);
    const cities = await api("/api/cities", { auth: false }).catch(() => ({ cities: [] }));
    const city = cities.cities.find((c) => c.name === state.city);
    if (city && city.curfew) [$("win-start").value, $("win-end").value] = city.curfew.split("-");  // the city's window
    window.greyzone.bundleSaved = navigator.onLine && cities.offline ? keepBundle(streets, cities).catch((e) => say(e.message)) : Promise.resolve(false);
    const bounds = new maplibregl.LngLatBounds();
    for (const f of streets.features) for (const c of f.geometry.coordinates) bounds.extend(c);
    if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 20, duration: 0 });
    window.greyzone.labelled = labels(streets, city, bounds);
  } else {
    say(`${t("route")}: ${t("notAvailable")} (greyzone city import)`);
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
  popups();
  window.addEventListener("online", () => flush());
  setInterval(() => { if (navigator.onLine) flush(); }, 15000);
  await showOutbox();
  if (navigator.onLine) flush();
  $("plan").addEventListener("click", plan);
  $("reach").addEventListener("click", reachFrom);
  $("send").addEventListener("click", send);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "uk" : "en";
    localStorage.setItem("greyzone.lang", state.lang);
    translate();
  });
  await setTime(state.times.length - 1);
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("idle", resolve)));
}

window.greyzone = { map, state, data: {}, setTime, toggle, flush, showOutbox };
window.greyzone.ready = start().then(() => true, (error) => { say(error.message); throw error; });
