// Who else is here. On a purchase's detail page and edit form, the list of the other signed-in
// people who have it open (`presence` frames: templates/live/_presence.html.j2); on an index
// page, a marker on each row someone is editing right now (`editing` frames:
// templates/live/_editing_marker.html.j2), put back after every refresh of the table. Both come
// from the shared stream (js/tab-sharing.js); this module only shows them.
import { body, parse, streamUrl, words } from "./page.js";

const list = document.querySelector("[data-testid=presence]");
const table = document.getElementById("live-table");

if (streamUrl && list) showPeople(list);
if (streamUrl && table) markEditing(table);

function thisPurchase() {
  const [kind, id] = (body.dataset.presence || "").split(":");
  return { kind: kind, id: Number(id) };
}

function showPeople(list) {
  const here = thisPurchase();
  const entry = document.getElementById("presence-template").content.querySelector("li");
  const people = list.querySelector("ul");
  body.addEventListener("live:presence", function (event) {
    const data = parse(event.detail.data);
    if (!data || data.kind !== here.kind || data.purchase_id !== here.id) return;
    people.replaceChildren(...data.people.map(function (person) {
      const item = entry.cloneNode(true);
      item.dataset.mode = person.mode;
      item.className = "presence-person presence-" + person.mode;
      item.querySelector(".presence-name").textContent = person.name;
      item.querySelector(".presence-mode").textContent = words.presence[person.mode] || person.mode;
      return item;
    }));
    list.hidden = data.people.length === 0;
  });
}

function markEditing(table) {
  const kind = table.dataset.kind;
  const marker = document.getElementById("editing-marker-template").content.firstElementChild;
  const editing = {}; // purchase id -> names of the people editing it

  function mark(id) {
    const row = document.getElementById("purchase-" + id);
    if (!row) return;
    const shown = row.querySelector("[data-testid=editing-marker]");
    if (shown) shown.remove();
    if (!editing[id] || !editing[id].length) return;
    const copy = marker.cloneNode(true);
    copy.querySelector(".editing-names").textContent = editing[id].join(", ");
    row.querySelector("[data-testid=invoice]").after(copy);
  }

  body.addEventListener("live:editing", function (event) {
    const data = parse(event.detail.data);
    if (!data || data.kind !== kind) return;
    editing[data.purchase_id] = data.editors;
    mark(data.purchase_id);
  });
  // A refresh brings the rows as the server renders them, without markers.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (table.contains(event.detail.elt) || event.detail.elt === table) Object.keys(editing).forEach(mark);
  });
}
