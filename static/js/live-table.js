// The page's live fragments (the purchase table, the monitor panel) refresh themselves on the
// stream's events: events already applied are skipped, and so is this tab's own echo when its
// row already shows the change; a hidden tab catches up once when shown. The purchase table
// also keeps the clerk's half-made move across a refresh, marks the rows that changed, and
// offers a reload when a refresh does not arrive.
import { body, ownEcho, parse, renderedThrough, say, streamUrl, words } from "./page.js";

const REFRESH_DEADLINE_MS = 5000;

// The newest event the page reflects: from the server at render time, then from the stream.
let refreshedThrough = renderedThrough;
let missedWhileHidden = false;

// This tab's own moves: the row comes back in the response, which may land before or after
// the echo on the stream. Either way the echo needs no refresh.
const ownPending = {};
const ownShown = {};

function ownChangeShown(data) {
  const row = document.getElementById("purchase-" + data.purchase_id);
  return ownPending[data.purchase_id] > 0 || !row || Number(row.dataset.version) >= data.version;
}

// htmx asks again when it takes a queued refresh off the queue: a refresh approved once stays
// approved.
const approved = new WeakSet();

function confirmLiveRefresh(event) {
  const trigger = event.detail.triggeringEvent;
  if (!trigger || typeof trigger.type !== "string" || !trigger.type.startsWith("live:")) return;
  if (approved.has(trigger)) return;
  const message = trigger.detail;
  if (message.type === "resync") {
    refreshedThrough = message.id; // a restored database may count from lower ids
  } else {
    const data = parse(message.data);
    const stale = message.id <= refreshedThrough;
    refreshedThrough = Math.max(refreshedThrough, message.id);
    if (stale || (data && ownEcho(data) && ownChangeShown(data))) {
      event.preventDefault();
      return;
    }
  }
  // A hidden tab does not refresh; it catches up once when it is shown again.
  if (document.hidden) {
    missedWhileHidden = true;
    event.preventDefault();
    return;
  }
  approved.add(trigger);
}

function refreshLiveFragments() {
  document.querySelectorAll("[data-live-refresh]").forEach(function (element) {
    htmx.trigger(element, "reload-table");
  });
}

function liveFragments() {
  document.addEventListener("htmx:confirm", confirmLiveRefresh);

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !missedWhileHidden) return;
    missedWhileHidden = false;
    refreshLiveFragments();
  });

  // Development (DEBUG) only: a template or static file changed (web/dev_reload.py). A template
  // inside the live fragments shows when they are fetched again; anything else needs the page.
  if (body.dataset.devReload !== undefined) {
    body.addEventListener("live:dev_reload", function (event) {
      const data = parse(event.detail.data);
      if (data && data.partial_only) refreshLiveFragments();
      else window.location.reload();
    });
  }
}

// --- The purchase table. ---

function statusRow(event) {
  const elt = event.detail.elt;
  const form = elt && elt.closest && elt.closest("form[data-status-form]");
  return form ? form.closest("tr") : null;
}

function ownMoveSent(event) {
  const row = statusRow(event);
  if (row) ownPending[row.dataset.purchaseId] = (ownPending[row.dataset.purchaseId] || 0) + 1;
}

function ownMoveAnswered(event) {
  const row = statusRow(event);
  if (!row) return;
  const id = row.dataset.purchaseId;
  ownPending[id] -= 1;
  const shown = document.getElementById("purchase-" + id);
  if (shown) ownShown[id] = Math.max(ownShown[id] || 0, Number(shown.dataset.version));
}

// A refresh morphs the table in place (idiomorph) and must not throw away a move the clerk is
// choosing, a note being typed or its open dialog. In a row being edited whose version did not
// change, those survive: the attributes that hold them are left alone. A changed row takes the
// new state, and says so.
const EDIT_ATTRIBUTES = new Set(["value", "selected", "open", "required"]);

function editing(row) {
  const form = row.querySelector("form[data-status-form]");
  if (!form) return false;
  const dialog = form.querySelector("dialog");
  return !!(form.elements.status.value || form.elements.notes.value || (dialog && dialog.open));
}

function keepEdits(table) {
  let kept = new WeakSet();
  let changed = [];
  Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode, newNode) {
    if (!(oldNode instanceof HTMLTableRowElement) || !table.contains(oldNode)) return true;
    if (!oldNode.dataset.purchaseId || !editing(oldNode)) return true;
    if (oldNode.dataset.version === newNode.dataset.version) {
      kept.add(oldNode);
    } else {
      const dialog = oldNode.querySelector("dialog");
      if (dialog && dialog.open) dialog.close();
      changed.push(oldNode.dataset.purchaseId);
    }
    return true;
  };
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (attribute, element) {
    if (!EDIT_ATTRIBUTES.has(attribute)) return true;
    const row = element.closest && element.closest("tr");
    return !(row && kept.has(row));
  };
  // After the swap: the changed rows say so; the next swap starts afresh.
  return function sayWhatChanged() {
    changed.forEach(function (id) {
      const row = document.getElementById("purchase-" + id);
      if (!row) return;
      const note = document.createElement("p");
      note.className = "notice notice-info";
      note.textContent = words.table.row_changed;
      note.setAttribute("data-testid", "row-message");
      row.querySelector(".actions").appendChild(note);
    });
    kept = new WeakSet();
    changed = [];
  };
}

function rowVersions(table) {
  const versions = {};
  table.querySelectorAll("[data-testid=purchase-row]").forEach(function (row) {
    versions[row.dataset.purchaseId] = row.dataset.version;
  });
  return versions;
}

function purchaseTable(table) {
  const fallback = document.querySelector("[data-testid=table-fallback]");
  let deadline = null;
  let versions = {};
  const sayWhatChanged = keepEdits(table);

  function showFallback(reason) {
    window.clearTimeout(deadline);
    fallback.querySelector("[data-testid=fallback-reason]").textContent = reason;
    if (fallback.hidden) fallback.dataset.timesShown = String(Number(fallback.dataset.timesShown) + 1);
    fallback.hidden = false;
  }

  function refreshArrived() {
    window.clearTimeout(deadline);
    fallback.hidden = true;
  }

  const fromTable = (event) => event.detail.elt === table;
  // A refresh whose answer is the table, not an error explained in the banner.
  const swapsTable = (event) => fromTable(event) && event.detail.target === table;

  document.addEventListener("htmx:configRequest", function (event) {
    if (!fromTable(event)) return;
    const section = table.querySelector("#purchase-table");
    if (section && section.dataset.refreshUrl) event.detail.path = section.dataset.refreshUrl;
    // The newest event this page has seen: a server that has not read that far reads first.
    if (refreshedThrough > 0) event.detail.headers["X-Event-Id"] = String(refreshedThrough);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    ownMoveSent(event);
    if (!fromTable(event)) return;
    window.clearTimeout(deadline);
    deadline = window.setTimeout(function () {
      showFallback(say(words.table.late, { seconds: REFRESH_DEADLINE_MS / 1000 }));
    }, REFRESH_DEADLINE_MS);
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (fromTable(event)) showFallback(say(words.table.failed, { status: event.detail.xhr.status }));
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (fromTable(event)) showFallback(words.table.unreachable);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!swapsTable(event)) return;
    versions = rowVersions(table);
  });
  document.addEventListener("htmx:afterRequest", ownMoveAnswered);
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.requestConfig && event.detail.requestConfig.target;
    if (swapsTable(event) || (target && target.id === "purchase-table")) refreshArrived();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!swapsTable(event)) return;
    sayWhatChanged();
    const rows = Array.from(table.querySelectorAll("[data-testid=purchase-row]"));
    // A refresh rendered before this tab's own latest move must not stand: fetch again.
    if (rows.some((row) => ownShown[row.dataset.purchaseId] > Number(row.dataset.version))) {
      htmx.trigger(table, "reload-table");
    }
    rows.forEach(function (row) {
      const before = versions[row.dataset.purchaseId];
      if (before !== undefined && before !== row.dataset.version) row.classList.add("row-changed");
    });
  });
  fallback.querySelector("[data-testid=reload-table]").addEventListener("click", function () {
    htmx.trigger(table, "htmx:abort");
    htmx.trigger(table, "reload-table");
  });
}

if (streamUrl) {
  liveFragments();
  const table = document.getElementById("live-table");
  if (table) purchaseTable(table);
}
