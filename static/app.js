// Purchasing Live page behaviour. No inline scripts anywhere: everything lives here.
(function () {
  "use strict";

  var REFRESH_DEADLINE_MS = 5000;
  var MAX_TOASTS = 3;
  var TOAST_LIFETIME_MS = 10000;

  var body = document.body;
  // Events come from live-share.js as `live:<type>` events on <body>, each once and in order.
  var live = !!body.dataset.liveStream;
  // This page's own tab id, sent with its requests, and the mark its changes' events carry
  // (web/echo.py): events are compared by mark, and no event ever holds a tab id.
  var tabId = body.dataset.tabId;
  var echoMark = body.dataset.echo;
  // The newest event the table reflects: from the server at render time, then from the stream.
  var refreshedThrough = Number(body.dataset.liveCursor) || 0;
  var missedWhileHidden = false;
  var liveTable = document.getElementById("live-table");

  function parse(text) {
    try { return JSON.parse(text); } catch (error) { return null; }
  }

  // --- Status control: a move that needs a note opens the row's dialog instead of being sent. ---
  function confirmStatusForm(event) {
    var form = event.target.closest && event.target.closest("form[data-status-form]");
    if (!form) return;
    var option = form.elements.status.selectedOptions[0];
    var notes = form.elements.notes;
    var dialog = form.querySelector("dialog");
    if (option && option.dataset.needsNote && !notes.value.trim()) {
      event.preventDefault();
      notes.required = true;
      dialog.showModal();
      notes.focus();
      return;
    }
    if (dialog.open) dialog.close();
  }

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close-dialog]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    var notes = dialog.querySelector("textarea");
    notes.required = false;
    notes.value = "";
    dialog.close();
  });

  // --- Table refreshes: skip events already applied, and this tab's own echo when its row
  // already shows the change. htmx asks again when it takes a queued refresh off the queue:
  // a refresh approved once stays approved.
  var approved = new WeakSet();

  function confirmLiveRefresh(event) {
    var trigger = event.detail.triggeringEvent;
    if (!trigger || typeof trigger.type !== "string" || trigger.type.indexOf("live:") !== 0) return;
    if (approved.has(trigger)) return;
    var message = trigger.detail;
    if (message.type === "resync") {
      refreshedThrough = message.id; // a restored database may count from lower ids
    } else {
      var data = parse(message.data);
      var stale = message.id <= refreshedThrough;
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

  function ownEcho(data) {
    return !!echoMark && data.echo === echoMark;
  }

  // This tab's own moves: the row comes back in the response, which may land before or after
  // the echo on the stream. Either way the echo needs no refresh.
  var ownPending = {};
  var ownShown = {};

  function ownChangeShown(data) {
    var row = document.getElementById("purchase-" + data.purchase_id);
    return ownPending[data.purchase_id] > 0 || !row || Number(row.dataset.version) >= data.version;
  }

  function statusRow(event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-status-form]");
    return form ? form.closest("tr") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var row = statusRow(event);
    if (row) ownPending[row.dataset.purchaseId] = (ownPending[row.dataset.purchaseId] || 0) + 1;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var row = statusRow(event);
    if (!row) return;
    var id = row.dataset.purchaseId;
    ownPending[id] -= 1;
    var shown = document.getElementById("purchase-" + id);
    if (shown) ownShown[id] = Math.max(ownShown[id] || 0, Number(shown.dataset.version));
  });

  document.addEventListener("htmx:confirm", function (event) {
    confirmStatusForm(event);
    confirmLiveRefresh(event);
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (tabId) event.detail.headers["X-Tab-Id"] = tabId;
    if (liveTable && event.detail.elt === liveTable) {
      var section = liveTable.querySelector("#purchase-table");
      if (section && section.dataset.refreshUrl) event.detail.path = section.dataset.refreshUrl;
      // The newest event this page has seen: a server that has not read that far reads first.
      if (refreshedThrough > 0) event.detail.headers["X-Event-Id"] = String(refreshedThrough);
    }
  });

  // --- Forms that cannot be undone ask first. ---
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // --- Errors (403, 404, 500, network) tell the clerk what happened, in the banner. ---
  // The server explains its own errors in a fragment aimed at the banner (HX-Retarget), with the
  // reference to quote; anything else, a proxy's error page say, is never swapped into the page.
  var BANNER = "#error-banner";
  function explained(event) {
    return event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Retarget") === BANNER;
  }
  function showError(text) {
    var banner = document.querySelector(BANNER);
    if (!banner) return;
    if (text !== undefined) banner.textContent = text;
    banner.hidden = false;
    window.clearTimeout(showError.timer);
    showError.timer = window.setTimeout(function () { banner.hidden = true; }, 15000);
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
    if (explained(event)) return showError();
    if (liveTable && event.detail.elt === liveTable) return;
    var status = event.detail.xhr.status;
    showError(status === 403
      ? "Your session or form expired. Reload the page and try again."
      : "The request failed (" + status + "). Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (liveTable && event.detail.elt === liveTable) return;
    showError("The server cannot be reached. Check the connection and try again.");
  });

  if (!live) return;

  // --- The stream's state and its events (live-share.js holds or shares the stream). ---
  body.addEventListener("live:state", function (event) {
    setConnection(event.detail.state, event.detail.label);
  });
  window.addEventListener("offline", function () { setConnection("offline", "Offline"); });

  // A toast for each change of this index page's kind made elsewhere (other pages show none).
  if (liveTable) {
    body.addEventListener("live:" + liveTable.dataset.liveEvent, function (event) {
      var data = parse(event.detail.data);
      if (data && !ownEcho(data)) showToast(data);
    });
  }

  function setConnection(state, label) {
    var indicator = document.querySelector("[data-testid=connection-status]");
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.querySelector(".connection-label").textContent = label;
  }

  // --- Toasts: one per event from someone else, at most three on screen. ---
  var clock = new Intl.DateTimeFormat("id-ID", { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit" });

  // The toast's markup is templates/live/_toast.html.j2, held empty in a <template> by the layout.
  function showToast(data) {
    var box = document.getElementById("toasts");
    var toast = document.getElementById("toast-template").content.firstElementChild.cloneNode(true);
    toast.className = "toast toast-" + data.priority;
    toast.dataset.eventId = String(data.id);
    toast.querySelector(".toast-title").textContent = data.title;
    toast.querySelector(".toast-message").textContent = data.message;
    var when = clock.format(new Date(data.changed_at)) + " WIB";
    toast.querySelector(".toast-meta").textContent = data.changed_by.name + " · " + when;
    toast.querySelector(".toast-close").addEventListener("click", function () { toast.remove(); });
    box.appendChild(toast);
    while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
    box.dataset.shown = String(Number(box.dataset.shown) + 1);
    window.setTimeout(function () { toast.remove(); }, TOAST_LIFETIME_MS);
  }

  // The page's live fragments (the table, the monitor panel) fetch themselves again.
  function refreshLiveFragments() {
    document.querySelectorAll("[data-live-refresh]").forEach(function (element) {
      htmx.trigger(element, "reload-table");
    });
  }

  // A tab shown again refreshes once what it skipped while hidden.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !missedWhileHidden) return;
    missedWhileHidden = false;
    refreshLiveFragments();
  });

  // Development (DEBUG) only: a template or static file changed (web/dev_reload.py). A template
  // inside the live fragments shows when they are fetched again; anything else needs the page.
  if (body.dataset.devReload !== undefined) {
    body.addEventListener("live:dev_reload", function (event) {
      var data = parse(event.detail.data);
      if (data && data.partial_only) refreshLiveFragments();
      else window.location.reload();
    });
  }

  if (!liveTable) return;

  // --- Fallback: offer a reload only when a refresh really has not arrived. ---
  var fallback = document.querySelector("[data-testid=table-fallback]");
  var deadline = null;
  var versions = {};
  var edits = {};

  // A refresh must not throw away a move the clerk is choosing or a note being typed. The choice
  // survives when its row did not change; a changed row says so instead.
  function captureEdits() {
    var found = {};
    liveTable.querySelectorAll("form[data-status-form]").forEach(function (form) {
      var row = form.closest("tr");
      var notes = form.elements.notes;
      var dialog = form.querySelector("dialog");
      if (!form.elements.status.value && !notes.value && !dialog.open) return;
      var focused = form.contains(document.activeElement) ? document.activeElement.name : null;
      found[row.dataset.purchaseId] = {
        version: row.dataset.version, status: form.elements.status.value, notes: notes.value,
        open: dialog.open, focused: focused, caret: notes.selectionStart,
      };
    });
    return found;
  }

  function restoreEdits(found) {
    Object.keys(found).forEach(function (id) {
      var edit = found[id];
      var row = document.getElementById("purchase-" + id);
      var form = row && row.querySelector("form[data-status-form]");
      if (!row) return;
      if (row.dataset.version !== edit.version || !form) {
        var note = document.createElement("p");
        note.className = "notice notice-info";
        note.textContent = "This purchase just changed: check it before you move it.";
        note.setAttribute("data-testid", "row-message");
        row.querySelector(".actions").appendChild(note);
        return;
      }
      form.elements.status.value = edit.status;
      form.elements.notes.value = edit.notes;
      if (edit.open) {
        form.elements.notes.required = true;
        form.querySelector("dialog").showModal();
      }
      var field = edit.focused && form.elements[edit.focused];
      if (field) field.focus();
      if (field === form.elements.notes) field.setSelectionRange(edit.caret, edit.caret);
    });
  }

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

  function fromLiveTable(event) {
    return event.detail.elt === liveTable;
  }
  // A refresh whose answer is the table, not an error explained in the banner.
  function swapsLiveTable(event) {
    return fromLiveTable(event) && event.detail.target === liveTable;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!fromLiveTable(event)) return;
    window.clearTimeout(deadline);
    deadline = window.setTimeout(function () {
      showFallback("The table has not refreshed for " + REFRESH_DEADLINE_MS / 1000 + " seconds.");
    }, REFRESH_DEADLINE_MS);
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (fromLiveTable(event)) showFallback("The table could not be refreshed (error " + event.detail.xhr.status + ").");
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (fromLiveTable(event)) showFallback("The server could not be reached to refresh the table.");
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!swapsLiveTable(event)) return;
    versions = {};
    liveTable.querySelectorAll("[data-testid=purchase-row]").forEach(function (row) {
      versions[row.dataset.purchaseId] = row.dataset.version;
    });
    edits = captureEdits();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.requestConfig && event.detail.requestConfig.target;
    if (swapsLiveTable(event) || (target && target.id === "purchase-table")) refreshArrived();
  });
  // After settling: htmx restores the attributes of elements that kept their id until then.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!swapsLiveTable(event)) return;
    restoreEdits(edits);
    // A refresh rendered before this tab's own latest move must not stand: fetch again.
    var behind = Array.prototype.some.call(liveTable.querySelectorAll("[data-testid=purchase-row]"), function (row) {
      return ownShown[row.dataset.purchaseId] > Number(row.dataset.version);
    });
    if (behind) htmx.trigger(liveTable, "reload-table");
    liveTable.querySelectorAll("[data-testid=purchase-row]").forEach(function (row) {
      var before = versions[row.dataset.purchaseId];
      if (before !== undefined && before !== row.dataset.version) row.classList.add("row-changed");
    });
  });
  fallback.querySelector("[data-testid=reload-table]").addEventListener("click", function () {
    htmx.trigger(liveTable, "htmx:abort");
    htmx.trigger(liveTable, "reload-table");
  });
})();
