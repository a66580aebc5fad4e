// The review queue of free-text messages: each message with what the parser read (kind, place, time,
// killed/injured — each with its confidence) and why it waits; a verifier accepts it, corrects it (kind,
// place, coordinates, counts: kept as a labelled example) or rejects it (it reports nothing).
const params = new URLSearchParams(location.search);
const WORDS = {
  en: { title: "Message review", state: "State", reload: "Reload", accept: "Accept", reject: "Reject", correct: "Correct",
    why: "waits because", kind: "kind", place: "place", time: "time", killed: "killed", injured: "injured",
    none: "nothing waits", received: "received", notStated: "not stated" },
  uk: { title: "Перевірка повідомлень", state: "Стан", reload: "Оновити", accept: "Прийняти", reject: "Відхилити",
    correct: "Виправити", why: "чекає, бо", kind: "вид", place: "місце", time: "час", killed: "загиблі", injured: "поранені",
    none: "черга порожня", received: "отримано", notStated: "не вказано" },
};
const KINDS = ["shelling", "glide_bomb", "missile", "air_strike", "fpv_strike", "drone_drop", "drone_sighting", "mine_uxo",
  "clash", "infiltration_sighting", "control_observation", "infrastructure_status", "service_status", "casualties",
  "evacuation_request", "air_raid_alert", "none"];
const state = { lang: params.get("lang") || "uk", loaded: 0 };
const $ = (id) => document.getElementById(id);
const t = (k) => WORDS[state.lang][k] || k;
$("token").value = params.get("token") || "";

function kyiv(iso) {
  return kyivTime(iso, state.lang) + (state.lang === "uk" ? " (Київ)" : " (Kyiv)");
}


function line(label, text) {
  const div = document.createElement("div");
  const b = document.createElement("strong");
  b.textContent = `${label}: `;
  div.append(b, document.createTextNode(text));
  return div;
}

function card(r) {
  const p = r.parse;
  const div = document.createElement("div");
  div.className = "request";
  div.dataset.id = r.review_id;
  const text = document.createElement("blockquote");
  text.textContent = r.text;
  const count = (c) => (c ? (c.value === null ? "?" : String(c.value)) : "—");
  div.append(text,
    line(t("received"), `${kyiv(r.received_at)} · ${r.source}`),
    line(t("kind"), `${p.kind.value} (${Number(p.kind.confidence).toFixed(2)})`),
    line(t("place"), p.place ? `${p.place.name}${p.place.ambiguous ? " — " + p.place.candidates.join("; ") : ""}` : "—"),
    line(t("time"), p.time ? `${kyiv(p.time.at)} (${p.time.words})` : t("notStated")),
    line(`${t("killed")} / ${t("injured")}`, `${count(p.killed)} / ${count(p.injured)}`),
    line(t("why"), r.why || "—"));
  if (r.state !== "pending") { div.append(line(t("state"), `${r.state} · ${r.reviewer || ""}`)); return div; }
  const kind = document.createElement("select");
  for (const k of KINDS) kind.add(new Option(k, k, false, k === p.kind.value));
  const inputs = {};
  for (const [name, placeholder, width] of [["place", "Покровськ", "9rem"], ["lon", "lon", "5rem"], ["lat", "lat", "5rem"],
    ["killed", t("killed"), "4rem"], ["injured", t("injured"), "4rem"]]) {
    const input = document.createElement("input");
    input.placeholder = placeholder; input.style.width = width; input.dataset.field = name;
    inputs[name] = input;
  }
  if (p.place && !p.place.ambiguous) inputs.place.value = p.place.name;
  const act = (label, body) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.dataset.action = body.action;
    b.addEventListener("click", async () => {
      try {
        await api(`/api/text/review/${r.review_id}`, { method: "POST", body: JSON.stringify(typeof body === "function" ? body() : body) });
        await load();
      } catch (error) { $("notice").textContent = error.message; }
    });
    return b;
  };
  const number = (v) => (v.trim() === "" ? null : Number(v));
  const correction = () => ({ action: "correct", kind: kind.value, place: inputs.place.value || null, lon: number(inputs.lon.value),
    lat: number(inputs.lat.value), killed: number(inputs.killed.value), injured: number(inputs.injured.value) });
  const actions = document.createElement("div");
  const fix = act(t("correct"), correction);
  fix.dataset.action = "correct";
  actions.append(act(t("accept"), { action: "accept" }), act(t("reject"), { action: "reject" }), kind,
    ...Object.values(inputs), fix);
  div.append(actions);
  return div;
}

async function load() {
  $("notice").textContent = "";
  const found = await api(`/api/text/review?state=${$("state").value}`);
  const queue = $("queue");
  queue.textContent = "";
  for (const r of found.reviews) queue.append(card(r));
  if (!found.reviews.length) queue.textContent = t("none");
  state.loaded += 1;
  window.greyzone.loaded = state.loaded;
}

function words() {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  $("lang").textContent = state.lang === "uk" ? "EN" : "УК";
}

$("reload").addEventListener("click", () => load().catch((e) => { $("notice").textContent = e.message; }));
$("state").addEventListener("change", () => load().catch((e) => { $("notice").textContent = e.message; }));
$("lang").addEventListener("click", () => { state.lang = state.lang === "uk" ? "en" : "uk"; words(); load().catch(() => {}); });
window.greyzone = { state, loaded: 0 };
words();
window.greyzone.ready = ($("token").value ? load() : Promise.resolve()).then(() => true, (e) => { $("notice").textContent = e.message; throw e; });
