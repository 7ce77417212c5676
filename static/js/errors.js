// Errors (403, 404, 500, network) tell the clerk what happened, in the banner. The server
// explains its own errors in a fragment aimed at the banner (HX-Retarget), with the reference to
// quote; anything else, a proxy's error page say, is never swapped into the page. The live table
// reports its own refreshes' errors (live-table.js).
import { say, words } from "./page.js";

const BANNER = "#error-banner";
const SHOWN_FOR_MS = 15000;
let hideTimer = null;

function explained(event) {
  return event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Retarget") === BANNER;
}

function ownErrors(event) {
  return !!event.detail.elt && event.detail.elt.id === "live-table";
}

function showError(text) {
  const banner = document.querySelector(BANNER);
  if (!banner) return;
  if (text !== undefined) banner.textContent = text;
  banner.hidden = false;
  window.clearTimeout(hideTimer);
  hideTimer = window.setTimeout(function () { banner.hidden = true; }, SHOWN_FOR_MS);
}

document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.isError && explained(event)) event.detail.shouldSwap = true;
});
// Whatever its status (a 409 is swapped without being an error), a message aimed at the banner
// is shown.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "error-banner") showError();
});
document.addEventListener("htmx:responseError", function (event) {
  if (explained(event)) {
    showError();
    return;
  }
  if (ownErrors(event)) return;
  const status = event.detail.xhr.status;
  showError(status === 403 ? words.errors.expired : say(words.errors.failed, { status: status }));
});
document.addEventListener("htmx:sendError", function (event) {
  if (ownErrors(event)) return;
  showError(words.errors.unreachable);
});
