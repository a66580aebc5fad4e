// Alert rules of the logged-in user: draw an area on the map (click the corners, double-click to close),
// pick a trigger, give a webhook; the user's rules with their deliveries, and the alerts not delivered.
const params = new URLSearchParams(location.search);
const WORDS = {
  en: { title: "Alerts", new: "New rule", name: "Name", trigger: "Trigger", kinds: "Kinds", atLeast: "At least", hours: "Hours",
    threshold: "Threshold, %", states: "States", items: "Services", url: "Webhook", clear: "Clear the area", save: "Save",
    draw: "Click the area's corners on the map, double-click to close it.", mine: "My rules", dead: "Not delivered",
    remove: "Remove", saved: "Saved", secretOnce: "Its secret (shown once; each delivery is signed with it):",
    needArea: "Draw the area first (at least three corners).", deliveries: "deliveries", active: "active", stopped: "stopped", stop: "Stop", start: "Start" },
  uk: { title: "Сповіщення", new: "Нове правило", name: "Назва", trigger: "Умова", kinds: "Види", atLeast: "Щонайменше", hours: "Годин",
    threshold: "Поріг, %", states: "Стани", items: "Послуги", url: "Webhook", clear: "Стерти область", save: "Зберегти",
    draw: "Клацніть на мапі вершини області, подвійне клацання — завершити.", mine: "Мої правила", dead: "Не доставлено",
    remove: "Видалити", saved: "Збережено", secretOnce: "Його секрет (показано один раз; ним підписано кожне сповіщення):",
    needArea: "Спершу накресліть область (щонайменше три вершини).", deliveries: "доставки", active: "діє", stopped: "зупинено", stop: "Зупинити", start: "Запустити" },
};
const CITY_WIDE = ["corridor", "curfew"];
const state = { lang: params.get("lang") || "uk", city: params.get("city") || "demo", corners: [], closed: false, rules: [] };
const $ = (id) => document.getElementById(id);
const t = (k) => WORDS[state.lang][k] || k;
if (params.get("token")) $("token").value = params.get("token");


const map = new maplibregl.Map({
  container: "map", attributionControl: false, doubleClickZoom: false,
  style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f4f1ea" } }] },
  center: [37.18, 48.28], zoom: 12,
});

function drawing() {
  const ring = state.corners.length ? [...state.corners, state.corners[0]] : [];
  const features = [];
  if (state.corners.length >= 3) features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: {} });
  else if (state.corners.length >= 2) features.push({ type: "Feature", geometry: { type: "LineString", coordinates: state.corners }, properties: {} });
  for (const c of state.corners) features.push({ type: "Feature", geometry: { type: "Point", coordinates: c }, properties: {} });
  map.getSource("drawn").setData({ type: "FeatureCollection", features });
}

function polygon() {
  if (state.corners.length < 3) return null;
  return { type: "Polygon", coordinates: [[...state.corners, state.corners[0]]] };
}

function shown() {
  const trigger = $("r-trigger").value;
  for (const label of document.querySelectorAll("label[data-for]")) label.hidden = !label.dataset.for.split(" ").includes(trigger);
  $("draw-hint").hidden = CITY_WIDE.includes(trigger);
}

function words() {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  $("lang").textContent = state.lang === "uk" ? "EN" : "УК";
}

const listed = (id) => $(id).value.split(",").map((x) => x.trim()).filter(Boolean);

async function save(event) {
  event.preventDefault();
  const trigger = $("r-trigger").value;
  const body = { city: state.city, name: $("r-name").value || trigger, trigger, url: $("r-url").value.trim(), format: $("r-format").value };
  if (!CITY_WIDE.includes(trigger)) {
    const area = polygon();
    if (!area) { $("notice").textContent = t("needArea"); return; }
    body.polygon = area;
  }
  if (trigger === "incidents") Object.assign(body, { kinds: listed("r-kinds"), at_least: Number($("r-at-least").value), hours: Number($("r-hours").value) });
  if (trigger === "hazard") Object.assign(body, { kinds: listed("r-kinds"), threshold: Number($("r-threshold").value) / 100, hours: Number($("r-hours").value) });
  if (trigger === "control") body.states = listed("r-states");
  if (trigger === "service") body.items = listed("r-items");
  try {
    const made = await api("/api/alerts", { method: "POST", body: JSON.stringify(body) });
    $("notice").textContent = `${t("saved")}: ${made.rule_id}`;
    $("secret").textContent = `${t("secretOnce")} ${made.secret}`;
    window.greyzone.saved = made.rule_id;
    state.corners = []; drawing();
    await loadRules();
  } catch (error) {
    $("notice").textContent = error.message;
  }
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

async function loadRules() {
  const found = await api("/api/alerts");
  state.rules = found.rules;
  const table = $("rules");
  table.textContent = "";
  const features = [];
  for (const r of found.rules) {
    const row = table.insertRow();
    row.dataset.id = r.rule_id;
    cell(row, r.name);
    cell(row, `${r.rule.trigger}${r.rule.kinds && r.rule.kinds.length ? " (" + r.rule.kinds.join(", ") + ")" : ""}`);
    cell(row, r.active ? t("active") : `${t("stopped")}: ${r.disabled}`);
    cell(row, Object.entries(r.deliveries).map(([k, v]) => `${k} ${v}`).join(", ") || "—");
    const remove = document.createElement("button");
    remove.type = "button"; remove.textContent = t("remove");
    remove.addEventListener("click", async () => {
      try { await api(`/api/alerts/${r.rule_id}`, { method: "DELETE" }); await loadRules(); } catch (error) { $("notice").textContent = error.message; }
    });
    const toggle = document.createElement("button");
    toggle.type = "button"; toggle.textContent = r.active ? t("stop") : t("start");
    toggle.addEventListener("click", async () => {
      try { await api(`/api/alerts/${r.rule_id}`, { method: "PATCH", body: JSON.stringify({ active: !r.active }) }); await loadRules(); } catch (error) { $("notice").textContent = error.message; }
    });
    cell(row, "").append(toggle, remove);
    features.push({ type: "Feature", geometry: r.area, properties: { name: r.name } });
  }
  map.getSource("rules").setData({ type: "FeatureCollection", features });
  const dead = (await api("/api/alerts/dead")).dead;
  const deadTable = $("dead");
  deadTable.textContent = "";
  for (const d of dead) { const row = deadTable.insertRow(); cell(row, d.alert); cell(row, d.status); cell(row, String(d.attempts)); cell(row, d.last_error); }
  window.greyzone.loaded = (window.greyzone.loaded || 0) + 1;
}

async function start() {
  await new Promise((resolve) => (map.loaded() ? resolve() : map.on("load", resolve)));
  map.addSource("streets", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "streets", type: "line", source: "streets", paint: { "line-color": "#9e9e9e", "line-width": 1 } });
  map.addSource("rules", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "rules", type: "fill", source: "rules", paint: { "fill-color": "#1565c0", "fill-opacity": 0.12 } });
  map.addLayer({ id: "rules-edge", type: "line", source: "rules", paint: { "line-color": "#1565c0", "line-width": 1.5 } });
  map.addSource("drawn", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "drawn", type: "fill", source: "drawn", filter: ["==", "$type", "Polygon"], paint: { "fill-color": "#d84315", "fill-opacity": 0.25 } });
  map.addLayer({ id: "drawn-line", type: "line", source: "drawn", paint: { "line-color": "#d84315", "line-width": 2 } });
  map.addLayer({ id: "drawn-corners", type: "circle", source: "drawn", filter: ["==", "$type", "Point"], paint: { "circle-radius": 4, "circle-color": "#d84315" } });
  map.on("click", (e) => {
    if (state.closed) { state.corners = []; state.closed = false; }
    const last = state.corners[state.corners.length - 1];
    if (last) {  // a double-click's clicks land on the corner just made: not new corners
      const p = map.project(last);
      if (Math.hypot(p.x - e.point.x, p.y - e.point.y) < 6) return;
    }
    state.corners.push([e.lngLat.lng, e.lngLat.lat]);
    drawing();
  });
  map.on("dblclick", () => { state.closed = state.corners.length >= 3; });
  const streets = await api(`/api/cities/${encodeURIComponent(state.city)}/streets`);
  map.getSource("streets").setData(streets);
  const bounds = new maplibregl.LngLatBounds();
  for (const f of streets.features) for (const c of f.geometry.coordinates) bounds.extend(c);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 10, duration: 0 });
  $("clear").addEventListener("click", () => { state.corners = []; drawing(); });
  $("rule-form").addEventListener("submit", save);
  $("r-trigger").addEventListener("change", shown);
  $("lang").addEventListener("click", () => { state.lang = state.lang === "uk" ? "en" : "uk"; words(); loadRules().catch(() => {}); });
  words(); shown();
  if ($("token").value.trim()) await loadRules();
}

window.greyzone = { map, state };
window.greyzone.ready = start().then(() => true, (error) => { $("notice").textContent = error.message; throw error; });
