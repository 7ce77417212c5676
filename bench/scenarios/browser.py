"""Click to other tab: a real browser clicks a status move in tab A; how long until tab B's
table shows it.

One app instance and one headless Chromium (the system's when it has one, launched as the
browser tests launch it) with one browser context: one session, logged in once through the
login form, and two pages, tab A and tab B. Each run reloads both on the supply index page (its
default view) until their streams are live, brings tab A (the one clicked) to the front and
picks another purchase with an open status on that page; it is cycled draft -> pending ->
confirmed -> in_transit -> draft by choosing the move in tab A's row and clicking Apply, one
click at a time: the next once both tabs show the previous one (or after
`tab_click_timeout_s`; after a miss both tabs are reloaded). Warm-up clicks come first and are
not counted.

Every time is taken inside the pages, on the clock they share (`performance.timeOrigin +
performance.now()`, one browser on one machine): in tab A by a capturing click listener as the
click is dispatched; in each tab by a MutationObserver on the live table when the purchase's
row first shows the new status badge; and, to show where the time goes, when tab B's stream
delivers the event and when each tab's request went out and was answered (Resource Timing). No
Playwright round-trip is inside a figure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from playwright.async_api import Browser, Locator, Page, Playwright, async_playwright

from bench.config import Mode
from bench.cycle import OPEN_CYCLE, next_open_status
from bench.harness import PASSWORD, USERNAME, App, Harness, say
from bench.procstat import cpu_seconds
from bench.report import Table
from bench.scenarios import Outcome, scenario
from bench.stats import Spread, latency_summary
from e2e.pages import BROWSER_PROBLEMS, CHROMIUM_FLAGS, system_chromium, watch_for_problems

NAME = "click-to-other-tab"
INDEX_PATH = "/purchases/supply"
GIVE_UP_AFTER_MISSES = 3  # consecutive clicks not shown in time end the run
PAGE_TIMEOUT_MS = 15_000  # any single Playwright action (login, page load, click)
CLOCK_SAMPLES = 5
TARGET_P50_MS, TARGET_P99_MS = 20.0, 50.0  # the target for tab B

# In every page of the context, before its own scripts: the shared clock, the click listener
# (tab A), the arrival of supply events (tab B) and a watcher of one row of the live table.
TAB_CLOCK = """(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = window.__bench = {now, clickedAt: null, eventAt: null, watch: null};
  document.addEventListener("click", (event) => {
    const target = event.target;
    if (target.closest && target.closest("[data-testid=status-apply]")) bench.clickedAt = now();
  }, true);
  // The event's own timeStamp: when it reached this tab (from the stream, in the tab holding
  // it, or relayed by that tab), even though htmx's listener runs, and sends the table GET,
  // before this one. Capturing on the document sees the event tab-sharing.js fires on <body>.
  document.addEventListener("live:supply_purchase_status_changed", (event) => {
    if (bench.eventAt === null) bench.eventAt = performance.timeOrigin + event.timeStamp;
  }, true);
  const requests = () => performance.getEntriesByType("resource")
    .filter((entry) => entry.initiatorType === "xmlhttprequest")
    .map((entry) => ({
      url: entry.name,
      sent: performance.timeOrigin + entry.startTime,
      answered: performance.timeOrigin + entry.responseEnd,
    }));
  bench.arm = (id, status) => {
    bench.clickedAt = bench.eventAt = null;
    performance.clearResourceTimings();
    if (bench.watch) bench.watch.observer.disconnect();
    const seen = {shownAt: null};
    let resolve;
    const done = new Promise((r) => { resolve = r; });
    const observer = new MutationObserver(() => {
      const at = now();
      const row = document.getElementById("purchase-" + id);
      const badge = row && row.querySelector("[data-testid=status-badge]");
      if (badge && badge.classList.contains("badge-" + status)) {
        seen.shownAt = at;
        observer.disconnect();
        resolve();
      }
    });
    observer.observe(document.getElementById("live-table"),
                     {subtree: true, childList: true, attributes: true, characterData: true});
    bench.watch = {seen, done, observer};
  };
  bench.wait = (timeoutMs) => {
    const watch = bench.watch;
    let timer;
    const late = new Promise((r) => { timer = setTimeout(r, timeoutMs); });
    return Promise.race([watch.done, late]).then(() => {
      clearTimeout(timer);
      watch.observer.disconnect();
      return {shownAt: watch.seen.shownAt, clickedAt: bench.clickedAt, eventAt: bench.eventAt,
              requests: requests()};
    });
  };
})()"""
NOW = "() => window.__bench.now()"
ROWS = """rows => rows.map(r => ({
  id: r.dataset.purchaseId, status: r.dataset.status,
  movable: r.querySelector("[data-testid=status-control]") !== null,
}))"""


async def launch(playwright: Playwright) -> Browser:
    """Chromium as the browser tests launch it: the system's with their flags, else Playwright's.
    Signals are left to the bench: a Ctrl-C also reaches Playwright's driver (it is in the
    bench's process group), which would otherwise close the browser under the running clicks;
    the bench closes it when it stops."""
    executable = system_chromium()
    options: dict[str, Any] = {
        "handle_sigint": False,
        "handle_sigterm": False,
        "handle_sighup": False,
    }
    if executable is not None:
        options |= {"executable_path": executable, "args": CHROMIUM_FLAGS}
    try:
        return await playwright.chromium.launch(**options)
    except Exception as error:
        raise RuntimeError(
            f"cannot start Chromium ({error}); `make browser` installs one"
        ) from error


async def log_in(page: Page) -> None:
    await page.goto("/login")
    await page.locator("input[name=username]").fill(USERNAME)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_test_id("current-user").wait_for()


async def open_live(page: Page) -> None:
    """The supply index page, default view, once its stream is live."""
    await page.goto(INDEX_PATH)
    await page.locator("[data-testid=connection-status][data-state=live]").wait_for()


async def clock_offset(a: Page, b: Page) -> tuple[float, float]:
    """Tab B's clock minus tab A's, in ms, and its uncertainty (half the tightest bracket)."""
    samples = []
    for _ in range(CLOCK_SAMPLES):
        before = await a.evaluate(NOW)
        other = await b.evaluate(NOW)
        after = await a.evaluate(NOW)
        samples.append((other - (before + after) / 2, (after - before) / 2))
    return min(samples, key=lambda sample: sample[1])


def _request(seen: dict[str, Any], path_end: str) -> dict[str, float]:
    """The first request of the click whose URL path ends so (its query aside), if any."""
    for entry in seen["requests"]:
        if entry["url"].split("?")[0].endswith(path_end):
            return dict(entry)
    return {}


class Tabs:
    """Tab A clicks, tab B watches; in each run one purchase cycled through the open statuses."""

    def __init__(self, a: Page, b: Page) -> None:
        self.a, self.b, self.pages = a, b, (a, b)
        self.purchase_id = ""
        self.status = ""  # the row's, read by `ready` and `choose`, then followed click by click
        self.rows_on_page = 0

    @property
    def row_a(self) -> Locator:
        return self.a.locator(f"#purchase-{self.purchase_id}")

    async def ready(self) -> None:
        """Both tabs (re)loaded on the index page with a live stream, tab A in front."""
        for page in self.pages:
            await open_live(page)
        await self.a.bring_to_front()  # else Playwright's clicks wait ~1 s for it to be stable
        if self.purchase_id:
            self.status = await self.row_a.get_attribute("data-status") or ""

    async def choose(self, run: int) -> None:
        """A purchase of the page that can move among the open statuses, another each run."""
        rows = await self.b.locator("[data-testid=purchase-row]").evaluate_all(ROWS)
        movable = [r for r in rows if r["movable"] and r["status"] in OPEN_CYCLE]
        if not movable:
            raise RuntimeError(f"no open supply purchase on the first page of {INDEX_PATH}")
        chosen = movable[run % len(movable)]
        self.rows_on_page = len(rows)
        self.purchase_id, self.status = chosen["id"], chosen["status"]

    async def click(self, timeout_s: float) -> dict[str, Any]:
        """One move chosen and applied in tab A; when each step happened, in ms after the click
        (None for what was not seen)."""
        target = next_open_status(self.status)
        arm, wait = "([id, s]) => window.__bench.arm(id, s)", "(ms) => window.__bench.wait(ms)"
        await asyncio.gather(*(p.evaluate(arm, [self.purchase_id, target]) for p in self.pages))
        await self.row_a.locator("select[name=status]").select_option(value=target)
        await self.row_a.get_by_test_id("status-apply").click()
        seen_a, seen_b = await asyncio.gather(
            *(p.evaluate(wait, timeout_s * 1000) for p in self.pages)
        )
        if seen_a["shownAt"] is not None:
            self.status = target
        clicked = seen_a["clickedAt"]
        post = _request(seen_a, f"/{self.purchase_id}/status")
        fetch = _request(seen_b, "/purchases/supply")  # tab B asks for nothing else

        def since_click(at: float | None) -> float | None:
            return at - clicked if at is not None and clicked is not None else None

        return {
            "target": target,
            "clicked": clicked is not None,
            "b_shown_ms": since_click(seen_b["shownAt"]),
            "a_shown_ms": since_click(seen_a["shownAt"]),
            "a_post_sent_ms": since_click(post.get("sent")),
            "a_post_answered_ms": since_click(post.get("answered")),
            "b_event_ms": since_click(seen_b["eventAt"]),
            "b_fetch_sent_ms": since_click(fetch.get("sent")),
            "b_fetch_answered_ms": since_click(fetch.get("answered")),
        }


async def open_tabs(browser: Browser, app: App) -> Tabs:
    """One context (one session, logged in through the form in tab A) and its two tabs."""
    context = await browser.new_context(base_url=f"http://127.0.0.1:{app.server.port}")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    await context.add_init_script(script=TAB_CLOCK)
    a, b = await context.new_page(), await context.new_page()
    for page in (a, b):
        # Typed for the sync API, but it only registers listeners (CSP refusals, script
        # errors; its dialog handler is for an alert(), never expected here).
        watch_for_problems(page)
    await log_in(a)
    return Tabs(a, b)


async def one_run(harness: Harness, app: App, tabs: Tabs, run: int) -> dict[str, Any]:
    """Both tabs reloaded, a purchase chosen, the warm-up clicks, then the counted ones."""
    mode = harness.mode
    began = time.monotonic()
    BROWSER_PROBLEMS.clear()
    await tabs.ready()
    await tabs.choose(run)
    offset, uncertainty = await clock_offset(tabs.a, tabs.b)
    visibility = {
        name: await page.evaluate("() => [document.visibilityState, document.hasFocus()]")
        for name, page in (("a", tabs.a), ("b", tabs.b))
    }
    holders = [
        name
        for name, page in (("A", tabs.a), ("B", tabs.b))
        if await page.evaluate("() => document.querySelector('[sse-connect]') !== null")
    ]
    clicks: list[dict[str, Any]] = []
    misses_in_a_row = 0
    cpu = clicking = 0.0
    for n in range(mode.tab_warmup_clicks + mode.tab_clicks):
        if n == mode.tab_warmup_clicks:
            cpu, clicking = cpu_seconds(app.server.pid), time.monotonic()
        click = await tabs.click(mode.tab_click_timeout_s)
        if n >= mode.tab_warmup_clicks:
            clicks.append(click)
        if click["b_shown_ms"] is not None and click["a_shown_ms"] is not None:
            misses_in_a_row = 0
            continue
        misses_in_a_row += 1
        if misses_in_a_row >= GIVE_UP_AFTER_MISSES:
            break
        await tabs.ready()  # both tabs start again from what the server has
    cpu, clicking = cpu_seconds(app.server.pid) - cpu, time.monotonic() - clicking
    return summarise_run(
        clicks,
        server_cpu_s_per_click=cpu / len(clicks) if clicks else None,
        wall_s_per_click=clicking / len(clicks) if clicks else None,
        purchase_id=tabs.purchase_id,
        rows_on_page=tabs.rows_on_page,
        clock_offset_ms=offset,
        clock_uncertainty_ms=uncertainty,
        visibility=visibility,
        stream_held_by=holders,
        problems=list(BROWSER_PROBLEMS),
        seconds=time.monotonic() - began,
    )


# (key in each click, row label): the headline figure, and tab A's own row beside it.
FIGURES = (
    ("b_shown_ms", "tab B shows the new status"),
    ("a_shown_ms", "tab A's own row shows it (its POST answered and swapped)"),
)
STEPS = (
    ("a_post_sent_ms", "tab A sends its POST"),
    ("a_post_answered_ms", "tab A has the POST's answer"),
    ("a_shown_ms", "tab A's row shows the new status"),
    ("b_event_ms", "the event reaches tab B"),
    ("b_fetch_sent_ms", "tab B sends its table GET"),
    ("b_fetch_answered_ms", "tab B has the table fragment"),
    ("b_shown_ms", "tab B's row shows the new status"),
)


def _seconds(clicks: list[dict[str, Any]], key: str) -> list[float]:
    return [c[key] / 1000 for c in clicks if c[key] is not None]


def summarise_run(clicks: list[dict[str, Any]], **facts: Any) -> dict[str, Any]:
    return {
        **facts,
        "clicks_made": len(clicks),
        "clicks_registered": sum(c["clicked"] for c in clicks),
        "clicks_seen": sum(c["b_shown_ms"] is not None for c in clicks),
        "latency_s": latency_summary(_seconds(clicks, "b_shown_ms")),
        "steps_s": {key: latency_summary(_seconds(clicks, key)) for key, _ in STEPS},
        "clicks": clicks,
    }


@scenario(NAME, "Click in one browser tab to the change in another tab (Playwright, Chromium)")
async def click_to_other_tab(harness: Harness) -> Outcome:
    mode = harness.mode
    apps = await harness.start_apps(1)
    runs: list[dict[str, Any]] = []
    try:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                tabs = await open_tabs(browser, apps[0])
                for run in range(mode.runs):
                    say(
                        f"click to other tab: run {run + 1}/{mode.runs}, "
                        f"{mode.tab_warmup_clicks} warm-up + {mode.tab_clicks} clicks"
                    )
                    runs.append(await one_run(harness, apps[0], tabs, run))
                    harness.partial[NAME] = build(mode, runs)
            finally:
                await quietly(browser.close())  # its context and pages with it
    finally:
        harness.stop(apps)
    return build(mode, runs)


async def quietly(closing: Awaitable[None]) -> None:
    """Closing a browser whose driver is already gone (crashed, killed) is no error."""
    try:
        await closing
    except Exception as error:
        say(f"closing the browser: {type(error).__name__}: {error}")


def build(mode: Mode, runs: list[dict[str, Any]]) -> Outcome:
    """The data and the two tables, from every run finished."""
    clicks = [c for r in runs for c in r["clicks"]]
    made = len(clicks)
    latency = Table(
        f"Click in tab A to the change in tab B: {mode.tab_clicks} clicks per run, one at a "
        "time (ms after the click)",
        ["measured", "p50", "p99", "max", "pooled p50", "pooled p99", "seen/made"],
    )
    summary: dict[str, Any] = {}
    for key, label in FIGURES:
        per_run = [latency_summary(_seconds(r["clicks"], key)) for r in runs]
        spread = {q: Spread.of(s[q] for s in per_run) for q in ("p50", "p99", "max")}
        everything = latency_summary(_seconds(clicks, key))
        summary[key] = {q: s.as_dict() for q, s in spread.items()} | {"pooled": everything}
        latency.rows.append(
            [
                label,
                *(s.text(scale=1000, digits=1) for s in spread.values()),
                _ms(everything["p50"]),
                _ms(everything["p99"]),
                f"{everything['count']:,}/{made:,}",
            ]
        )
    steps = Table(
        "Where the time goes: each step, ms after the click in tab A (p50 per run)",
        ["step", "p50", "pooled p50", "pooled max"],
    )
    for key, label in STEPS:
        spread = Spread.of(r["steps_s"][key]["p50"] for r in runs)
        everything = latency_summary(_seconds(clicks, key))
        summary[f"step {key}"] = {"p50": spread.as_dict(), "pooled": everything}
        steps.rows.append(
            [
                label,
                spread.text(scale=1000, digits=1),
                _ms(everything["p50"]),
                _ms(everything["max"]),
            ]
        )
    shown = summary["b_shown_ms"]["pooled"]
    offsets = Spread.of(r["clock_offset_ms"] for r in runs)
    bracket = max((r["clock_uncertainty_ms"] for r in runs), default=None)
    pages = [page for r in runs for page in r["visibility"].values()]
    states = sorted({state + (", focused" if focused else "") for state, focused in pages})
    problems = [p for r in runs for p in r["problems"]]
    held = sorted({" and ".join(r["stream_held_by"]) or "no tab" for r in runs})
    latency.notes = [
        "Times taken inside the pages on the clock they share (`performance.timeOrigin + "
        "performance.now()`): at the click in tab A (a capturing listener), and when the "
        "purchase's row shows the new status badge (a MutationObserver on the live table: in "
        "the DOM, before the next paint). One browser context (one session), two pages; tab B "
        "refreshes because the event comes from another tab: SSE event -> GET of the table "
        f"fragment ({' / '.join(sorted({str(r['rows_on_page']) for r in runs}))} rows) -> swap. "
        f"The tabs share one stream, held by tab {' / '.join(held)} (per run); the other gets "
        "each event relayed over a BroadcastChannel (static/js/tab-sharing.js).",
        f"p50/p99/max per run ({len(runs)} runs of {mode.tab_clicks} counted clicks after "
        f"{mode.tab_warmup_clicks} warm-up ones), then median [min-max] over runs; pooled: over "
        "every counted click of every run. With fewer than 100 clicks a p99 is the largest. "
        f"A click is seen if the row shows it within {mode.tab_click_timeout_s:g} s.",
        f"Target (issue) for tab B: p50 <= {TARGET_P50_MS:g} ms, p99 <= {TARGET_P99_MS:g} ms; "
        f"pooled here: p50 {_ms(shown['p50'])} ms, p99 {_ms(shown['p99'])} ms.",
        f"Clock check: tab B's clock minus tab A's {offsets.text(digits=2)} ms (+/- "
        f"{'n/a' if bracket is None else f'{bracket:.1f}'} ms, read through Playwright); both "
        f"pages {' / '.join(states) or 'n/a'}. Browser problems (CSP, script errors, alerts): "
        f"{'; '.join(problems) if problems else 'none'}.",
    ]
    cpu = Spread.of(r["server_cpu_s_per_click"] for r in runs)
    pace = Spread.of(r["wall_s_per_click"] for r in runs)
    steps.notes = [
        "Request times from Resource Timing (sent: the request's start; answered: its "
        "responseEnd), the event's from its timeStamp when it reached tab B; all on the same "
        "clock as the click. The gaps: server time of the POST, event delivery, server time "
        "of the table GET, and the browser's own work (the click's submit, htmx's swap).",
        f"Server CPU per counted click (the POST, the event to the tabs' one stream and tab B's "
        "GET; "
        f"user+system, 10 ms resolution): {cpu.text(scale=1000, digits=1)} ms. One click every "
        f"{pace.text(scale=1000, digits=0)} ms (Playwright's own round-trips included). "
        "Chromium, the server and the bench share the machine's cores.",
    ]
    data = {
        "runs": runs,
        "summary": summary,
        "target_ms": {"p50": TARGET_P50_MS, "p99": TARGET_P99_MS},
    }
    return Outcome(data, [latency, steps])


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.1f}"
