// A toast for each change made elsewhere to what this page shows live: an index page's kind, or
// a detail page's purchase (other pages show none), at most three on screen. Its markup is templates/live/_toast.html.j2, held empty in a <template>
// by the layout.
import { body, ownEcho, parse, say, words } from "./page.js";

const MAX_TOASTS = 3;
const TOAST_LIFETIME_MS = 10000;
const clock = new Intl.DateTimeFormat("id-ID", { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit" });

// The event's title and message in this page's language, from its fields (presentation/toasts.py
// words them the same way); an event of an action this page does not know keeps its own.
function worded(data) {
  const patterns = words.toasts || {};
  const action = patterns[data.action];
  if (!action) return { title: data.title, message: data.message };
  const status = function (value) { return (words.statuses || {})[value] || value || ""; };
  const values = {
    purchase: patterns.purchases[data.kind],
    purchase_title: patterns.purchase_titles[data.kind],
    invoice: data.invoice_number,
    supplier: data.supplier,
    old: status(data.old_status),
    new: status(data.new_status),
    new_lower: status(data.new_status).toLowerCase(),
    who: data.changed_by.name,
  };
  values.subject = data.supplier ? say(patterns.subject, values) : data.invoice_number;
  return { title: say(action.title, values), message: say(action.message, values) };
}

function showToast(data) {
  const box = document.getElementById("toasts");
  const toast = document.getElementById("toast-template").content.firstElementChild.cloneNode(true);
  const text = worded(data);
  toast.className = "toast toast-" + data.priority;
  toast.dataset.eventId = String(data.id);
  toast.querySelector(".toast-title").textContent = text.title;
  toast.querySelector(".toast-message").textContent = text.message;
  const when = clock.format(new Date(data.changed_at)) + " WIB";
  toast.querySelector(".toast-meta").textContent = data.changed_by.name + " · " + when;
  toast.querySelector(".toast-close").addEventListener("click", function () { toast.remove(); });
  box.appendChild(toast);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  box.dataset.shown = String(Number(box.dataset.shown) + 1);
  window.setTimeout(function () { toast.remove(); }, TOAST_LIFETIME_MS);
}

const shown = document.querySelector("#live-table, #live-detail");
if (body.dataset.liveStream && shown) {
  const purchase = Number(shown.dataset.purchaseId) || 0; // a detail page's, else any
  body.addEventListener("live:" + shown.dataset.liveEvent, function (event) {
    const data = parse(event.detail.data);
    if (data && !ownEcho(data) && (!purchase || data.purchase_id === purchase)) showToast(data);
  });
}
