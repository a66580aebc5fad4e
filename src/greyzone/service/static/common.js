// What the service's pages share: calling the API with the page's token, and the city's clock.

/** The API's answer to ``path`` (JSON), called with the token typed in ``#token``; an error answer
    becomes an Error whose message is the API's, with each field's reason. */
async function api(path, options = {}) {
  const input = document.getElementById("token");
  const token = input ? input.value.trim() : "";
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(path, Object.assign({ headers }, options));
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const details = body.error && body.error.details ? " — " + body.error.details.map((d) => `${d.field}: ${d.reason}`).join("; ") : "";
    throw new Error((body.error ? body.error.message : `HTTP ${answer.status}`) + details);
  }
  return body;
}

/** A time as Kyiv's clock shows it (24-hour), in the page's language. */
function kyivTime(iso, lang) {
  return new Intl.DateTimeFormat(lang === "uk" ? "uk-UA" : "en-GB", { timeZone: "Europe/Kyiv", day: "numeric",
    month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}
