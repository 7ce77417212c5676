// Purchasing Live page behaviour. No inline scripts anywhere: everything lives here.
(function () {
  "use strict";

  // A status move that needs a note opens the row's dialog instead of being sent.
  document.addEventListener("htmx:confirm", function (event) {
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
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close-dialog]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    var notes = dialog.querySelector("textarea");
    notes.required = false;
    notes.value = "";
    dialog.close();
  });

  // Requests htmx does not swap (403, 404, 500, network) still tell the clerk what happened.
  function showError(text) {
    var banner = document.getElementById("error-banner");
    if (!banner) return;
    banner.textContent = text;
    banner.hidden = false;
    window.clearTimeout(showError.timer);
    showError.timer = window.setTimeout(function () { banner.hidden = true; }, 8000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    showError(status === 403
      ? "Your session or form expired. Reload the page and try again."
      : "The request failed (" + status + "). Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError("The server cannot be reached. Check the connection and try again.");
  });
})();
