// The sitrep page: the report of a city for a day, in Ukrainian or English, shown as its HTML edition
// (fetched with the token, if any: analysts get the full edition), with its PDF, Markdown and HXL CSV to
// download. Nothing is fetched from anywhere but the service.
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

async function fetchReport(format, extra = {}) {
  const q = new URLSearchParams({ city: $("city").value, date: $("date").value, lang: $("lang").value,
    edition: $("edition").value, format, ...extra });
  const token = $("token").value.trim();
  const answer = await fetch(`/api/sitrep?${q}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!answer.ok) {
    const body = await answer.json().catch(() => ({}));
    throw new Error(body.error ? body.error.message : `HTTP ${answer.status}`);
  }
  return answer;
}

async function show() {
  $("notice").textContent = "";
  try {
    const answer = await fetchReport("html");
    window.greyzone.edition = answer.headers.get("X-Sitrep-Edition");
    $("report").srcdoc = await answer.text();
    await new Promise((resolve) => $("report").addEventListener("load", resolve, { once: true }));
    const links = $("downloads");
    links.textContent = "";
    for (const [format, extra, label] of [["pdf", {}, "PDF"], ["md", {}, "Markdown"], ["csv", { table: "incidents" }, "CSV (HXL)"]]) {
      const a = document.createElement("a");
      a.href = "#";
      a.textContent = label;
      a.style.marginLeft = ".6rem";
      a.addEventListener("click", async (event) => {
        event.preventDefault();
        const blob = await (await fetchReport(format, extra)).blob();
        const url = URL.createObjectURL(blob);
        const link = document.createElement("a");
        link.href = url;
        link.download = `sitrep-${$("city").value}-${$("date").value}.${format}`;
        link.click();
      });
      links.append(a);
    }
    window.greyzone.shown = (window.greyzone.shown || 0) + 1;
  } catch (error) {
    $("notice").textContent = error.message;
  }
}

$("token").value = params.get("token") || localStorage.getItem("greyzone.token") || "";
$("city").value = params.get("city") || "demo";
// the latest whole day: yesterday in Kyiv (en-CA writes dates as YYYY-MM-DD)
$("date").value = params.get("date") || new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Kyiv" }).format(Date.now() - 864e5);
$("lang").value = params.get("lang") || "uk";
$("edition").value = params.get("edition") || "full";
$("show").addEventListener("click", show);
window.greyzone = {};
window.greyzone.ready = show().then(() => true);
