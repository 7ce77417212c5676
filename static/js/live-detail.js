// A purchase's detail page, kept live. When someone else moves, edits or deletes the purchase,
// the page fetches its live part again (`hx-trigger="live:refresh"` on #live-detail) and htmx
// morphs it in place (idiomorph): the scroll position stays, and so does a note being typed in
// the status form, while the status, history, moves, lines and totals take the new state.
import { body, parse, streamUrl } from "./page.js";

const container = document.getElementById("live-detail");
if (streamUrl && container) liveDetail(container);

// The version the page shows; none once the purchase is gone (nothing newer can come).
function shownVersion(container) {
  const status = container.querySelector("[data-testid=purchase-status]");
  return status ? Number(status.dataset.version) : Infinity;
}

function keepNote(container) {
  const previous = Idiomorph.defaults.callbacks.beforeAttributeUpdated;
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (attribute, element, how) {
    const typed = attribute === "value" && element.name === "notes" && element.value !== "";
    if (typed && container.contains(element)) return false;
    return previous ? previous(attribute, element, how) : true;
  };
}

function liveDetail(container) {
  const purchaseId = Number(container.dataset.purchaseId);
  const refresh = () => htmx.trigger(container, "live:refresh");
  keepNote(container);
  body.addEventListener("live:" + container.dataset.liveEvent, function (event) {
    const data = parse(event.detail.data);
    if (data && data.purchase_id === purchaseId && data.version > shownVersion(container)) refresh();
  });
  // The stream could not replay what this page missed: fetch it, unless the purchase is gone.
  body.addEventListener("live:resync", function () {
    if (shownVersion(container) !== Infinity) refresh();
  });
}
