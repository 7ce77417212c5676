// Questions asked before a form is sent: a status move that needs a note opens its row's note
// dialog instead of being sent, and a form that cannot be undone asks to be confirmed.

function confirmStatusForm(event) {
  const form = event.target.closest && event.target.closest("form[data-status-form]");
  const dialog = form && form.querySelector("dialog");
  if (!dialog) return; // a plain status form (the detail page) has its note field in view
  const option = form.elements.status.selectedOptions[0];
  const notes = form.elements.notes;
  if (option && option.dataset.needsNote && !notes.value.trim()) {
    event.preventDefault();
    notes.required = true;
    dialog.showModal();
    notes.focus();
    return;
  }
  if (dialog.open) dialog.close();
}

document.addEventListener("htmx:confirm", confirmStatusForm);

document.addEventListener("click", function (event) {
  const closer = event.target.closest && event.target.closest("[data-close-dialog]");
  if (!closer) return;
  const dialog = closer.closest("dialog");
  const notes = dialog.querySelector("textarea");
  notes.required = false;
  notes.value = "";
  dialog.close();
});

document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// A note dialog dismissed with Escape must not leave its form unsendable (a required, hidden
// note field blocks the browser's submit, so Apply would do nothing): the next Apply asks for
// the note again.
document.addEventListener(
  "close",
  function (event) {
    const dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || !dialog.classList.contains("note-dialog")) return;
    const notes = dialog.querySelector("textarea");
    if (notes) notes.required = false;
  },
  true,
);
