// The coordinator's board: utilities per district and service points (table + map), the evacuation
// request queue with each request's suspicion and its reasons, vetting → approval → crew assignment, and
// the residents' needs. Personal data is shown only to the coordinator role (the API audits each reading).
const params = new URLSearchParams(location.search);
const WORDS = {
  en: { title: "Coordinator's board", status: "Utilities and services", requests: "Evacuation requests", needs: "Needs",
    district: "District", state: "Status", all: "all", outages: "Outage hours per day", vet: "Vet", approve: "Approve",
    reject: "Reject", crews: "Crews", assign: "Assign", reason: "reason", suspicion: "suspicion", people: "people",
    asOf: "as of", kyiv: "Kyiv time", item: "what", sources: "sources", noReason: "no sign of a lure found",
    unmet: "unmet (people)", since: "since", cannot: "cannot" },
  uk: { title: "Дошка координатора", status: "Комунальні послуги й сервіси", requests: "Запити на евакуацію", needs: "Потреби",
    district: "Район", state: "Стан", all: "усі", outages: "Години без послуги за добу", vet: "Перевірити", approve: "Схвалити",
    reject: "Відхилити", crews: "Екіпажі", assign: "Призначити", reason: "причина", suspicion: "підозра", people: "осіб",
    asOf: "станом на", kyiv: "за київським часом", item: "що", sources: "джерел", noReason: "ознак приманки не знайдено",
    unmet: "незадоволені (осіб)", since: "з", cannot: "не може" },
};
const state = { lang: params.get("lang") || "en", city: params.get("city"), at: params.get("at"), day: params.get("day"), board: null, requests: [] };
const $ = (id) => document.getElementById(id);
const t = (k) => WORDS[state.lang][k] || k;
const EMPTY = { type: "FeatureCollection", features: [] };

function kyiv(iso) {
  return iso ? kyivTime(iso, state.lang) : "—";
}


const map = new maplibregl.Map({
  container: "map", attributionControl: false,
  style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#f4f1ea" } }] },
  center: [37.18, 48.28], zoom: 12,
});

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.append(td);
  return td;
}

function statusTable() {
  const table = $("status-table");
  table.textContent = "";
  const head = table.insertRow();
  for (const h of [t("district"), t("item"), t("state"), t("asOf"), t("sources")]) cell(head, h).style.fontWeight = "bold";
  const d = $("f-district").value, s = $("f-status").value;
  for (const r of state.board.rows) {
    if ((d && r.district !== d) || (s && r.status !== s)) continue;
    const row = table.insertRow();
    row.dataset.status = r.status;
    cell(row, r.district);
    cell(row, r.name || r.item);
    const voices = r.status === "conflicting" ? ": " + r.voices.map((v) => `${v.status} ×${v.sources}`).join(" / ") : "";
    cell(row, r.status + voices, `s-${r.status}`);
    cell(row, kyiv(r.as_of));
    cell(row, String(r.sources));
  }
  const outages = $("outage-table");
  outages.textContent = "";
  const top = outages.insertRow();
  for (const h of [t("district"), t("item"), ...state.board.days.map((x) => x.slice(5))]) cell(top, h).style.fontWeight = "bold";
  for (const o of state.board.out_hours) {
    const row = outages.insertRow();
    cell(row, o.district); cell(row, o.utility);
    for (const h of o.out_h) cell(row, h.toLocaleString(state.lang === "uk" ? "uk-UA" : "en-GB"), h >= 12 ? "s-out" : h > 0 ? "s-intermittent" : "");
  }
}

async function loadBoard() {
  const q = new URLSearchParams({ city: state.city });
  if (state.at) q.set("at", state.at);
  state.board = await api(`/api/board?${q}`);
  $("asof").textContent = `${t("asOf")} ${kyiv(state.board.as_of)} (${t("kyiv")})`;
  $("rule").textContent = state.board.rule;
  for (const [id, values] of [["f-district", state.board.districts], ["f-status", ["working", "intermittent", "out", "open", "limited", "closed", "unknown", "conflicting"]]]) {
    const select = $(id);
    while (select.options.length > 1) select.remove(1);
    for (const v of values) select.add(new Option(v, v));
  }
  statusTable();
  const points = (await api(`/api/services?city=${encodeURIComponent(state.city)}`)).points;
  const byId = Object.fromEntries(state.board.rows.filter((r) => r.point_id).map((r) => [r.point_id, r.status]));
  map.getSource("services").setData({ type: "FeatureCollection", features: points.map((p) => ({ type: "Feature",
    geometry: { type: "Point", coordinates: [p.lon, p.lat] }, properties: { name: p.name, status: byId[p.point_id] || "unknown" } })) });
  const districts = await api(`/api/districts?city=${encodeURIComponent(state.city)}`);
  map.getSource("districts").setData(districts);
  const bounds = new maplibregl.LngLatBounds();
  const extend = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(extend));  // Polygon or MultiPolygon
  for (const f of districts.features) extend(f.geometry.coordinates);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 20, duration: 0 });  // the city's districts, not its roads out
}

function button(label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = label;
  b.addEventListener("click", async () => {
    try { await action(); $("notice").textContent = ""; } catch (error) { $("notice").textContent = error.message; }
  });
  return b;
}

async function move(id, to, reason) {
  await api(`/api/evac/${id}/state`, { method: "POST", body: JSON.stringify({ to, reason }) });
  await loadQueue();
}

function requestCard(r) {
  const div = document.createElement("div");
  div.className = `request level-${r.level}`;
  div.dataset.id = r.request_id;
  div.dataset.state = r.state;
  const names = r.personal && r.personal.names ? r.personal.names.join(", ") : "";
  const title = document.createElement("div");
  title.innerHTML = "";
  const strong = document.createElement("strong");
  strong.textContent = `${r.request_id} · ${r.state} · ${r.urgency}`;
  title.append(strong, document.createTextNode(` — ${r.people} ${t("people")} (${r.mobility}) · ${r.district} ${names ? "· " + names : ""}`));
  const score = document.createElement("div");
  score.textContent = `${t("suspicion")} ${Number(r.suspicion).toFixed(2)} (${r.level})`;
  const reasons = document.createElement("ul");
  reasons.className = "reasons";
  for (const text of r.reasons.length ? r.reasons : [t("noReason")]) { const li = document.createElement("li"); li.textContent = text; reasons.append(li); }
  const why = document.createElement("input");
  why.placeholder = t("reason");
  why.className = "why";
  const actions = document.createElement("div");
  if (r.state === "new") actions.append(button(t("vet"), async () => { await api(`/api/evac/${r.request_id}/vet`, { method: "POST" }); await loadQueue(); }));
  if (r.state === "vetting") {
    actions.append(button(t("approve"), () => move(r.request_id, "approved", why.value || "approved on the board")));
    actions.append(button(t("reject"), () => move(r.request_id, "rejected", why.value)));
  }
  if (r.state === "approved") actions.append(button(t("crews"), () => crews(r, div)));
  div.append(title, score, reasons, why, actions);
  return div;
}

async function crews(r, div) {
  const day = state.day || (state.at || new Date().toISOString()).slice(0, 10);
  const options = (await api(`/api/evac/${r.request_id}/crews?day=${day}`)).crews;
  const list = document.createElement("ul");
  list.className = "crews";
  for (const o of options) {
    const li = document.createElement("li");
    li.dataset.crew = o.crew_id;
    if (o.feasible) {
      const risk = o.route.risk === null ? "risk unknown" : `risk ${(100 * o.route.risk).toFixed(3)} %`;
      li.textContent = `${o.name} (${o.vehicle}): ${kyiv(o.route.depart)}, ${o.route.minutes} min, ${risk} `;
      li.append(button(t("assign"), async () => {
        await api(`/api/evac/${r.request_id}/assign`, { method: "POST", body: JSON.stringify({ crew_id: o.crew_id, day }) });
        map.getSource("route").setData({ type: "Feature", geometry: { type: "LineString", coordinates: o.route.line }, properties: {} });
        window.greyzone.assigned = { request: r.request_id, crew: o.crew_id };
        await loadQueue();
      }));
    } else {
      li.textContent = `${o.name} (${o.vehicle}) ${t("cannot")}: ${o.problems.join("; ")}`;
    }
    list.append(li);
  }
  div.append(list);
  window.greyzone.crews = options;
}

async function loadQueue() {
  const s = $("f-state").value;
  const q = new URLSearchParams({ city: state.city });
  for (const x of s ? [s] : ["new", "vetting", "approved", "assigned", "en_route"]) q.append("state", x);
  state.requests = (await api(`/api/evac?${q}`)).requests;
  const queue = $("queue");
  queue.textContent = "";
  for (const r of state.requests) queue.append(requestCard(r));
  map.getSource("requests").setData({ type: "FeatureCollection", features: state.requests.filter((r) => r.personal && r.personal.lon)
    .map((r) => ({ type: "Feature", geometry: { type: "Point", coordinates: [r.personal.lon, r.personal.lat] }, properties: { level: r.level } })) });
  window.greyzone.loaded = (window.greyzone.loaded || 0) + 1;
}

async function loadNeeds() {
  const needs = await api(`/api/needs?city=${encodeURIComponent(state.city)}${state.at ? "&at=" + encodeURIComponent(state.at) : ""}`);
  const table = $("needs-table");
  table.textContent = "";
  const head = table.insertRow();
  for (const h of [t("district"), t("item"), t("unmet"), t("since")]) cell(head, h).style.fontWeight = "bold";
  for (const r of needs.rows) {
    const row = table.insertRow();
    cell(row, r.district); cell(row, r.category); cell(row, String(r.unmet_people), r.unmet_people ? "s-out" : ""); cell(row, kyiv(r.unmet_since));
  }
}

function translate() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = state.lang === "uk" ? "EN" : "УК";
}

async function start() {
  translate();
  $("token").value = params.get("token") || localStorage.getItem("greyzone.token") || "";
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  for (const id of ["streets", "districts", "services", "requests", "route"]) map.addSource(id, { type: "geojson", data: EMPTY });
  map.addLayer({ id: "districts", type: "line", source: "districts", paint: { "line-color": "#6a1b9a", "line-width": 2, "line-dasharray": [2, 2] } });
  map.addLayer({ id: "streets", type: "line", source: "streets", paint: { "line-color": "#9e9e9e", "line-width": 1 } });
  map.addLayer({ id: "route", type: "line", source: "route", paint: { "line-color": "#1565c0", "line-width": 4 } });
  map.addLayer({ id: "services", type: "circle", source: "services", paint: { "circle-radius": 6, "circle-stroke-width": 1, "circle-stroke-color": "#fff",
    "circle-color": ["match", ["get", "status"], "open", "#2e7d32", "limited", "#f9a825", "closed", "#c62828", "conflicting", "#8e24aa", "#757575"] } });
  map.addLayer({ id: "requests", type: "circle", source: "requests", paint: { "circle-radius": 5, "circle-color": "#000",
    "circle-stroke-width": 3, "circle-stroke-color": ["match", ["get", "level"], "high", "#c62828", "medium", "#f9a825", "#2e7d32"] } });
  if (!state.city) state.city = (await api("/api/cities")).cities.map((c) => c.name)[0];
  const streets = await api(`/api/cities/${encodeURIComponent(state.city)}/streets`);
  map.getSource("streets").setData(streets);
  const bounds = new maplibregl.LngLatBounds();
  for (const f of streets.features) for (const c of f.geometry.coordinates) bounds.extend(c);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 10, duration: 0, maxZoom: 13 });
  for (const b of document.querySelectorAll("nav button")) {
    b.addEventListener("click", () => {
      for (const x of document.querySelectorAll("nav button")) x.classList.toggle("on", x === b);
      for (const name of ["status", "requests", "needs"]) $(`tab-${name}`).hidden = name !== b.dataset.tab;
    });
  }
  $("f-district").addEventListener("change", statusTable);
  $("f-status").addEventListener("change", statusTable);
  $("f-state").addEventListener("change", loadQueue);
  $("token").addEventListener("change", () => { localStorage.setItem("greyzone.token", $("token").value.trim()); start(); });
  $("lang").addEventListener("click", () => { state.lang = state.lang === "uk" ? "en" : "uk"; translate(); statusTable(); loadQueue(); });
  await loadBoard();
  await loadQueue();
  await loadNeeds();
}

window.greyzone = { map, state };
window.greyzone.ready = start().then(() => true, (error) => { $("notice").textContent = error.message; throw error; });
