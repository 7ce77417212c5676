// An edit form that never loses work. When someone else changes or deletes the purchase being
// edited, the stale banner above the form says who, when and what changed: the server compares
// the form's base (the purchase as the form was opened) with the stored purchase
// (`hx-trigger="live:stale"` on #live-form). The clerk's typing is never touched; saving merges
// their changes with the other ones (services/merge.py).
import { body, parse, streamUrl } from "./page.js";

const live = document.getElementById("live-form");
if (streamUrl && live) staleBanner(live);

// The version the form was opened at (or merged to).
function formVersion() {
  const version = document.querySelector("#purchase-form [name=version]");
  return version ? Number(version.value) : 0;
}

function staleBanner(live) {
  const purchaseId = Number(live.dataset.purchaseId);
  const ask = () => htmx.trigger(live, "live:stale");
  body.addEventListener("live:" + live.dataset.liveEvent, function (event) {
    const data = parse(event.detail.data);
    if (data && data.purchase_id === purchaseId && data.version > formVersion()) ask();
  });
  // The stream could not replay what this page missed: ask the server what changed, if anything.
  body.addEventListener("live:resync", ask);
}
