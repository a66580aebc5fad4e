/* greyzone's service worker: the map in the field without a network.
   The app's own files are cached when it installs; every GET of the app or the API is answered from the
   network when there is one (and the answer kept, stamped with when it was fetched), else from what was
   kept — the page reads the stamp (x-greyzone-fetched) and says how old what it shows is. POSTs (routes,
   reports) are never answered from the cache: the page plans offline itself and queues reports. A request
   with a token is never kept: what a vetted role sees (reports where they are) stays off the device's cache
   (the page keeps its own offline bundle of public layers in IndexedDB). */
"use strict";
const CACHE = "greyzone-v2";
const SHELL = ["/map/", "/map/index.html", "/map/app.js", "/map/offline.js", "/map/style.css",
  "/map/vendor/maplibre-gl.js", "/map/vendor/maplibre-gl.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set("x-greyzone-fetched", new Date().toISOString());
  const body = await response.clone().arrayBuffer();
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, await stamped(response));
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true })
      || (new URL(request.url).pathname.startsWith("/map") ? await cache.match("/map/index.html") : undefined);
    if (kept) return kept;
    return new Response(JSON.stringify({ error: { code: "offline", message: "offline, and not kept for offline use" } }),
      { status: 503, headers: { "Content-Type": "application/json", "x-greyzone-offline": "1" } });
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/map") && !url.pathname.startsWith("/api/")) return;
  if (event.request.headers.has("Authorization")) return;  // never cache what a token was shown
  event.respondWith(networkFirst(event.request));
});
