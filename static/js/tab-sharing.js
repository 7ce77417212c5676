// One event stream per browser, however many tabs are open.
//
// Browsers open at most 6 connections to a host over HTTP/1.1, and every event stream keeps one.
// So the tabs of one signed-in user share a single stream: a Web Lock elects the tab that holds
// it (with htmx's sse extension), and that tab relays each event to the others over a
// BroadcastChannel. When the holder closes, the lock passes to a waiting tab, which resumes the
// stream from the last id it has seen. A holder that stops answering (a frozen or hung tab) has
// its lock taken over. A tab that opens while events flow gets what it missed from the holder's
// backlog, or is told to re-fetch its table when the backlog does not reach back far enough.
//
// Every tab, the holder included, hands events to its page as `live:<type>` events on <body>,
// in order and each once (detail: {type, id, data}), and the connection state as `live:state`
// (detail: {state, label}). htmx triggers and the other modules listen to those.
//
// Without Web Locks or BroadcastChannel (an old browser, or a page served over plain HTTP from
// another host than localhost, which is not a secure context) every tab holds its own stream.
//
// The stream also says which purchases the browser's tabs have open (`?here=`, for presence:
// live/presence.py). Each such tab tells the holder what it has open, again every few seconds;
// the holder forgets a tab it has not heard from for a while (closed or crashed) and reconnects
// the stream whenever that set changes. Presence frames (`presence`, `editing`) carry no id:
// they are relayed as they come, and a tab that opens gets the latest of each from the holder.
//
// The connection indicator in the top bar shows the stream's state.
import { body, renderedThrough, streamEvents, streamUrl, tabId, words } from "./page.js";

if (streamUrl) share();

function share() {
  var DEV_RELOAD = body.dataset.devReload !== undefined; // DEBUG: also `dev_reload`, relayed as is
  var BACKLOG_SIZE = 200; // events every tab keeps for tabs that open after them
  var PING_EVERY_MS = 1000; // a waiting tab asks after the holder when it has not heard from it
  var TAKEOVER_AFTER_MS = 2000; // an unanswered ask this old means the holder is stuck
  var HERE_EVERY_MS = 5000; // a tab with a purchase open says so to the holder this often
  var HERE_FORGET_MS = 12000; // and the holder forgets it after this long unheard
  var PRESENCE_FRAMES = ["presence", "editing"]; // state, not history: no id, relayed as they come

  var lockName = "purchasing-live:" + body.dataset.liveUser;
  var sharing = !!(navigator.locks && navigator.locks.request && window.BroadcastChannel);
  var channel = null;
  // Waiting tabs do not all take over at the same moment.
  var takeOverAfter = TAKEOVER_AFTER_MS + Math.random() * 1000;

  // --- What this page has seen: events with ids in (floor, lastId], the newest kept. ---
  var lastId = renderedThrough;
  var floor = lastId;
  var backlog = [];
  var state = { state: "reconnecting", label: words.connection.connecting };

  function announce(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  // Hands one event to this page unless it has it already. A resync (the stream could not
  // replay, or the database was restored) starts the count again from its id.
  function deliver(message) {
    if (message.type === "resync") {
      backlog = [];
      floor = message.id;
    } else if (message.id > lastId) {
      backlog.push(message);
      if (backlog.length > BACKLOG_SIZE) floor = backlog.shift().id;
    } else {
      return false;
    }
    lastId = message.id;
    body.dataset.lastEventId = String(lastId);
    announce("live:" + message.type, message);
    return true;
  }

  function setState(next) {
    state = next;
    announce("live:state", state);
    showState(state);
  }

  function showState(shown) {
    var indicator = document.querySelector("[data-testid=connection-status]");
    if (!indicator) return;
    indicator.dataset.state = shown.state;
    indicator.querySelector(".connection-label").textContent = shown.label;
  }
  window.addEventListener("offline", function () { showState({ state: "offline", label: words.connection.offline }); });

  // --- Holding the stream. ---
  var holding = false;
  var streamElement = null;
  var source = null;

  // htmx's sse extension asks for every EventSource it opens, reconnections included: each one
  // resumes after the last event this tab has.
  htmx.createEventSource = function (url) {
    var target = new URL(url, window.location.href);
    target.searchParams.set("after", String(lastId));
    streamHere = hereList();
    if (streamHere) target.searchParams.set("here", streamHere);
    source = new EventSource(target.toString(), { withCredentials: true });
    streamEvents.forEach(function (type) { source.addEventListener(type, fromStream); });
    PRESENCE_FRAMES.forEach(function (type) { source.addEventListener(type, presenceFrame); });
    if (DEV_RELOAD) source.addEventListener("dev_reload", devReload);
    return source;
  };

  function fromStream(event) {
    var message = { type: event.type, id: Number(event.lastEventId), data: event.data };
    if (deliver(message)) post({ kind: "event", message: message });
  }

  // --- Presence: what the browser's tabs have open. ---
  var myHere = body.dataset.presence || ""; // "supply:12:viewing", on a purchase's pages
  var heres = {}; // the holder's: tab id -> {here, heard}
  var streamHere = ""; // what the open stream said
  var latest = {}; // the newest presence frame per type and purchase, for tabs that open later
  var reconnecting = null;

  function hereList() {
    var found = {};
    if (myHere) found[myHere] = true;
    Object.keys(heres).forEach(function (tab) { found[heres[tab].here] = true; });
    return Object.keys(found).sort().join(",");
  }

  // The holder: reconnect, soon, when what the tabs have open is not what the stream said.
  function hereChanged() {
    if (!holding || hereList() === streamHere || reconnecting) return;
    reconnecting = window.setTimeout(function () {
      reconnecting = null;
      if (holding && !pausedUntil && hereList() !== streamHere) openStream();
    }, 250);
  }

  function forgetSilentTabs() {
    var now = Date.now();
    Object.keys(heres).forEach(function (tab) {
      if (now - heres[tab].heard > HERE_FORGET_MS) delete heres[tab];
    });
    hereChanged();
  }

  function sayHere() {
    if (myHere && !holding) post({ kind: "here", here: myHere });
  }

  function presenceFrame(event) {
    var message = { type: event.type, data: event.data };
    keepLatest(message);
    post({ kind: "presence", message: message });
    announce("live:" + event.type, message);
  }

  // Nobody there (the page's own default) needs no keeping: the map holds only what is shown.
  function keepLatest(message) {
    var data = JSON.parse(message.data);
    var key = message.type + ":" + data.kind + ":" + data.purchase_id;
    if ((data.people || data.editors || []).length) latest[key] = message;
    else delete latest[key];
  }

  // Development only (DEBUG): templates or static files changed. The frame carries no id and
  // moves no cursor; every tab gets it once, from the stream or from the holder.
  function devReload(event) {
    var message = { type: event.type, data: event.data };
    post({ kind: "dev_reload", message: message });
    announce("live:dev_reload", message);
  }

  function hold() {
    holding = true;
    openStream();
    post({ kind: "holder" });
  }

  function letGo() {
    holding = false;
    heres = {};
    window.clearTimeout(pausedUntil);
    pausedUntil = null;
    closeStream();
  }

  function openStream() {
    closeStream();
    streamElement = document.createElement("div");
    streamElement.hidden = true;
    streamElement.setAttribute("hx-ext", "sse");
    streamElement.setAttribute("sse-connect", streamUrl);
    body.appendChild(streamElement);
    htmx.process(streamElement);
  }

  function closeStream() {
    if (source) source.close();
    if (streamElement) {
      // Without the attribute a reconnection the extension has scheduled does nothing.
      streamElement.removeAttribute("sse-connect");
      streamElement.remove();
    }
    source = streamElement = null;
  }

  // The server refused the stream (429: this browser or this account holds too many). Say so,
  // and ask again only after the wait it named, still holding the lock so that the other tabs
  // do not each try in turn.
  var pausedUntil = null;
  function pause(reason, waitS) {
    closeStream();
    window.clearTimeout(pausedUntil);
    streamState({ state: "refused", label: reason });
    pausedUntil = window.setTimeout(function () {
      pausedUntil = null;
      if (holding) openStream();
    }, waitS * 1000 * (1 + Math.random() / 2));
  }

  // An EventSource cannot read why it was refused: ask with fetch, one question at a time.
  // Anything but a refusal (the stream opening, a network error), or a refusal that comes after
  // the stream has opened meanwhile, is left to the sse extension's own retries.
  var asking = null;
  function askWhyClosed() {
    if (asking || pausedUntil) return;
    var question = (asking = new AbortController());
    fetch(streamUrl, { headers: { Accept: "text/event-stream" }, signal: question.signal })
      .then(function (response) {
        var opened = source && source.readyState === EventSource.OPEN;
        if (response.status !== 429 || opened) return question.abort();
        var waitS = Number(response.headers.get("Retry-After")) || 30;
        return response.text().then(function (reason) { if (holding) pause(reason, waitS); });
      })
      .catch(function () {})
      .then(function () { asking = null; });
  }

  function streamState(next) {
    setState(next);
    post({ kind: "state", state: next });
  }

  document.addEventListener("htmx:sseOpen", function () {
    streamState({ state: "live", label: words.connection.live });
  });
  document.addEventListener("htmx:sseError", function (event) {
    var closed = event.detail.source && event.detail.source.readyState === EventSource.CLOSED;
    streamState(closed || !navigator.onLine
      ? { state: "offline", label: words.connection.offline }
      : { state: "reconnecting", label: words.connection.reconnecting });
    if (closed && navigator.onLine) askWhyClosed();
  });

  // --- Sharing it. ---
  function post(note) {
    if (!channel) return;
    note.from = tabId;
    channel.postMessage(note);
  }

  var welcomed = false; // a newly opened tab queues relayed events until its catch-up arrives
  var queued = [];
  var heardAt = 0; // when the holder last said anything
  var askedAt = 0; // when this tab last asked after it

  function catchUp(messages) {
    welcomed = true;
    messages.concat(queued).forEach(deliver);
    queued = [];
  }

  function onNote(event) {
    var note = event.data;
    if (holding) {
      if (note.kind === "hello") post(welcome(note));
      if (note.kind === "ping") post({ kind: "state", state: state });
      if (note.kind === "here") heres[note.from] = { here: note.here, heard: Date.now() };
      if (note.kind === "gone") delete heres[note.from];
      if (note.kind === "here" || note.kind === "gone") hereChanged();
      return;
    }
    if (note.kind === "here" || note.kind === "gone") return;
    // Other waiting tabs' questions, and answers meant for another tab, are not the holder's.
    if (note.kind === "hello" || note.kind === "ping" || (note.to && note.to !== tabId)) return;
    heardAt = Date.now();
    if (note.kind === "event") {
      if (welcomed) deliver(note.message);
      else queued.push(note.message);
    } else if (note.kind === "welcome") {
      catchUp(note.messages);
      setState(note.state);
      (note.presence || []).forEach(function (message) {
        keepLatest(message);
        announce("live:" + message.type, message);
      });
    } else if (note.kind === "state") {
      setState(note.state);
    } else if (note.kind === "dev_reload") {
      announce("live:dev_reload", note.message);
    } else if (note.kind === "presence") {
      keepLatest(note.message);
      announce("live:" + note.message.type, note.message);
    } else if (note.kind === "holder") {
      if (!welcomed) post({ kind: "hello", after: lastId }); // a new holder: ask it instead
      sayHere(); // and tell it what this tab has open
    }
  }

  // What a tab that has seen events up to `after` is missing, or a resync when this tab's
  // backlog does not reach back that far.
  function welcome(hello) {
    var messages = hello.after >= floor
      ? backlog.filter(function (message) { return message.id > hello.after; })
      : [{ type: "resync", id: lastId, data: JSON.stringify({ id: lastId, reason: "tab-opened" }) }];
    var presence = Object.keys(latest).map(function (key) { return latest[key]; });
    return { kind: "welcome", to: hello.from, messages: messages, state: state, presence: presence };
  }

  var waiting = null; // the pending lock request, withdrawn before taking over
  var takingOver = false; // a takeover asked for and not yet granted

  function campaign(takeOver) {
    if (waiting) waiting.abort();
    var withdraw = new AbortController();
    waiting = takeOver ? null : withdraw;
    takingOver = takeOver;
    var options = takeOver ? { steal: true } : { signal: withdraw.signal };
    navigator.locks.request(lockName, options, function () {
      waiting = null;
      takingOver = false;
      catchUp([]); // the stream replays from lastId whatever the queue lacks
      hold();
      return new Promise(function () {}); // held while the page lives
    }).catch(function () {
      // Taken over (this tab was frozen or hung) or withdrawn: wait for the lock again.
      var lost = holding;
      if (lost) letGo();
      if (lost || takeOver) campaign(false);
    });
  }

  function watchHolder() {
    if (holding || takingOver) return;
    var now = Date.now();
    if (askedAt > heardAt && now - askedAt > takeOverAfter) {
      navigator.locks.query().then(function (locks) {
        var held = locks.held.some(function (lock) { return lock.name === lockName; });
        if (held && !holding && !takingOver && askedAt > heardAt) campaign(true);
      });
    } else if (now - heardAt > PING_EVERY_MS && !(askedAt > heardAt)) {
      askedAt = now;
      post({ kind: "ping" });
    }
  }

  // Once htmx has set up the page's triggers, so that no event arrives before them.
  function start() {
    if (!sharing) {
      hold();
      return;
    }
    channel = new BroadcastChannel(lockName);
    channel.onmessage = onNote;
    window.setInterval(watchHolder, PING_EVERY_MS / 2);
    post({ kind: "hello", after: lastId });
    sayHere();
    window.setInterval(sayHere, HERE_EVERY_MS);
    window.setInterval(function () { if (holding) forgetSilentTabs(); }, PING_EVERY_MS);
    // A tab that closes says so; one that crashes is forgotten after HERE_FORGET_MS.
    window.addEventListener("pagehide", function () { if (myHere) post({ kind: "gone" }); });
    campaign(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
