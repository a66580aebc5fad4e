// The residents' page: the nearest published service points to where one is, open now or not, and the
// walking route's risk leaving now and in the next hours. Ukrainian first; works on a phone; public.
const WORDS = {
  uk: {
    title: "Де хліб, вода, ліки сьогодні", what: "Що шукаю", tap: "Торкніться мапи там, де ви є.",
    bread: "хліб", water_point: "вода", pharmacy: "аптека", medical_post: "медичний пункт",
    aid_point: "гуманітарна допомога", shop: "магазин", shelter: "укриття",
    open: "відчинено", limited: "обмежено", closed: "зачинено", unknown: "невідомо",
    openNow: "відчинено зараз", closedNow: "зараз зачинено", unknownNow: "чи відчинено — невідомо",
    hours: "години", asOf: "станом на", walk: "пішки", min: "хв", risk: "ризик", kyiv: "за київським часом",
    none: "Поблизу немає оприлюднених пунктів.", riskUnknown: "ризик невідомий", m: "м",
    never: "Показано лише пункти, які оприлюднили координатори міста. Черги й кількість людей ніколи не показуються.",
  },
  en: {
    title: "Where are bread, water, medicine today", what: "Looking for", tap: "Tap the map where you are.",
    bread: "bread", water_point: "water", pharmacy: "pharmacy", medical_post: "medical post",
    aid_point: "aid point", shop: "shop", shelter: "shelter",
    open: "open", limited: "limited", closed: "closed", unknown: "unknown",
    openNow: "open now", closedNow: "closed now", unknownNow: "open or not: unknown",
    hours: "hours", asOf: "as of", walk: "on foot", min: "min", risk: "risk", kyiv: "Kyiv time",
    none: "No published point nearby.", riskUnknown: "risk unknown", m: "m",
    never: "Only points the city's coordinators have published are shown. Queues and crowds are never shown.",
  },
};
const params = new URLSearchParams(location.search);
const state = {
  lang: params.get("lang") || localStorage.getItem("greyzone.lang") || "uk",
  city: params.get("city"), at: params.get("at"),
  here: params.has("lon") ? [Number(params.get("lon")), Number(params.get("lat"))] : null,
};
const $ = (id) => document.getElementById(id);
const t = (key) => WORDS[state.lang][key] || key;

function kyiv(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const text = new Intl.DateTimeFormat(state.lang === "uk" ? "uk-UA" : "en-GB", {
    timeZone: "Europe/Kyiv", hour: "2-digit", minute: "2-digit", day: "numeric", month: "short", hourCycle: "h23",
  }).format(d);
  return `${text} (${t("kyiv")})`;
}

function clock(iso) {
  return new Intl.DateTimeFormat("uk-UA", { timeZone: "Europe/Kyiv", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

function percent(r) {
  if (r === null || r === undefined) return t("riskUnknown");
  const locale = state.lang === "uk" ? "uk-UA" : "en-GB";
  if (r > 0 && r < 1e-4) return `${t("risk")} < ${(0.01).toLocaleString(locale)} %`;  // small, never "0 %"
  return `${t("risk")} ${(100 * r).toLocaleString(locale, { maximumSignificantDigits: 2 })} %`;
}

function translate() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = state.lang === "uk" ? "EN" : "УК";
}

const map = new maplibregl.Map({
  container: "map", attributionControl: false,
  style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f4f1ea" } }] },
  center: [37.18, 48.28], zoom: 12,
});

async function get(path) {
  const answer = await fetch(path);
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.error ? body.error.message : `HTTP ${answer.status}`);
  return body;
}

function show(answer) {
  window.greyzone.answer = answer;
  $("asof").textContent = `${t("asOf")} ${kyiv(answer.as_of)}`;
  const list = $("points");
  list.textContent = "";
  if (!answer.points.length) $("notice").textContent = t("none");
  const features = [];
  for (const p of answer.points) {
    const li = document.createElement("li");
    li.className = `point status-${p.status}`;
    const now = p.open_now === true ? t("openNow") : p.open_now === false ? t("closedNow") : t("unknownNow");
    const walks = p.walk.filter((w) => w.minutes !== undefined).map((w) => `${clock(w.depart)}: ${w.minutes ?? "—"} ${t("min")}, ${percent(w.risk)}`);
    li.innerHTML = "";
    const name = document.createElement("strong"); name.textContent = p.name; li.append(name);
    const status = document.createElement("div"); status.className = "status"; status.dataset.testid = "status";
    status.textContent = `${now} · ${t(p.status)}${p.status_as_of ? ` (${t("asOf")} ${kyiv(p.status_as_of)})` : ""}`;
    const hours = document.createElement("div"); hours.textContent = `${t("hours")}: ${p.hours || "—"} · ${p.distance_m} ${t("m")}`;
    const walk = document.createElement("div"); walk.className = "walk"; walk.textContent = `${t("walk")}: ${walks.join("; ")}`;
    li.append(status, hours, walk);
    list.append(li);
    features.push({ type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: { name: p.name, status: p.status } });
  }
  map.getSource("points").setData({ type: "FeatureCollection", features });
  const bounds = new maplibregl.LngLatBounds();
  for (const f of features) bounds.extend(f.geometry.coordinates);
  if (state.here) bounds.extend(state.here);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 30, duration: 0, maxZoom: 16 });
}

async function refresh() {
  if (!state.here || !state.city) return;
  map.getSource("here").setData({ type: "Feature", geometry: { type: "Point", coordinates: state.here }, properties: {} });
  const q = new URLSearchParams({ city: state.city, lon: state.here[0], lat: state.here[1], service: $("service").value });
  if (state.at) q.set("at", state.at);
  try {
    show(await get(`/api/residents?${q}`));
    $("notice").textContent = "";
  } catch (error) {
    $("notice").textContent = error.message;
  }
}

async function start() {
  translate();
  if (params.get("service")) $("service").value = params.get("service");
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  map.addSource("streets", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addSource("points", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addSource("here", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "streets", type: "line", source: "streets", paint: { "line-color": "#9e9e9e", "line-width": 1 } });
  map.addLayer({ id: "points", type: "circle", source: "points", paint: { "circle-radius": 7, "circle-stroke-width": 2, "circle-stroke-color": "#fff",
    "circle-color": ["match", ["get", "status"], "open", "#2e7d32", "limited", "#f9a825", "closed", "#c62828", "#757575"] } });
  map.addLayer({ id: "here", type: "circle", source: "here", paint: { "circle-radius": 6, "circle-color": "#1565c0" } });
  if (!state.city) state.city = (await get("/api/cities")).cities.map((c) => c.name)[0];
  if (state.city) {
    const streets = await get(`/api/cities/${encodeURIComponent(state.city)}/streets`);
    map.getSource("streets").setData(streets);
    const bounds = new maplibregl.LngLatBounds();
    for (const f of streets.features) for (const c of f.geometry.coordinates) bounds.extend(c);
    if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 10, duration: 0, maxZoom: 14 });
  }
  map.on("click", (e) => { state.here = [e.lngLat.lng, e.lngLat.lat]; refresh(); });
  $("service").addEventListener("change", refresh);
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "uk" ? "en" : "uk";
    localStorage.setItem("greyzone.lang", state.lang);
    translate();
    if (window.greyzone.answer) show(window.greyzone.answer);
  });
  await refresh();
}

window.greyzone = { map, state };
window.greyzone.ready = start().then(() => true, (error) => { $("notice").textContent = error.message; throw error; });
