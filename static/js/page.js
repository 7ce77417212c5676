// What every script needs to know about this page, read once from <body>, and the tab id that
// every htmx request carries.
export const body = document.body;

// This tab's id, sent with its requests, and the mark its changes' events carry (web/echo.py):
// events are compared by mark, and no event ever holds a tab id.
export const tabId = body.dataset.tabId || "";
export const echoMark = body.dataset.echo || "";

// The stream's URL, and the newest event the page reflected when it was rendered; only pages
// with a live part have them.
export const streamUrl = body.dataset.liveStream || "";
export const renderedThrough = Number(body.dataset.liveCursor) || 0;

// The typed events the server sends on the stream (its `Kind`s' event types, and `resync`).
export const streamEvents = (body.dataset.liveEvents || "").split(" ").filter(Boolean);

export function parse(text) {
  try { return JSON.parse(text); } catch (error) { return null; }
}

// The words the scripts show, in the reader's language (presentation/words.py), and `say`,
// which puts values in their `%(name)s` places.
const wordsElement = document.querySelector("meta[name=page-words]");
export const words = (wordsElement && parse(wordsElement.content)) || {};

export function say(text, values) {
  return String(text || "").replace(/%\((\w+)\)s/g, function (place, name) {
    return values && name in values ? String(values[name]) : place;
  });
}

// An event this tab's own change caused, as its mark says.
export function ownEcho(data) {
  return !!echoMark && data.echo === echoMark;
}

document.addEventListener("htmx:configRequest", function (event) {
  if (tabId) event.detail.headers["X-Tab-Id"] = tabId;
});
