"""The app's own Prometheus metrics (HTTP metrics come from Litestar's Prometheus middleware).

Everything here is a plain `prometheus_client` metric in the default registry, updated where the
thing happens, so it also works in prometheus_client's multiprocess mode (several workers, one
`/metrics`). The one figure counted on the hot path of the fan-out, frames handed to streams,
is kept as a plain integer by the hub and added to its counter in batches (`Hub.sync_metrics`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "purchasing"
# prometheus_client's multiprocess mode: with `--workers N`, each worker keeps its metrics in
# files in this folder, and whichever worker answers `/metrics` sums them all.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Delays from commit to socket: a few ms when all is well, seconds when something is wrong.
DELAY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

STREAMS_OPEN = Gauge(
    f"{PREFIX}_streams_open",
    "Event streams open now",
    multiprocess_mode="livesum",
)
STREAMS_OPEN_FOR_KIND = Gauge(
    f"{PREFIX}_streams_open_for_kind",
    "Open event streams that receive a kind's events (a stream may receive several kinds)",
    ["kind"],
    multiprocess_mode="livesum",
)
STREAMS_OPENED = Counter(f"{PREFIX}_streams_opened", "Event streams opened")
EVENTS_WRITTEN = Counter(
    f"{PREFIX}_events_written", "Events committed to the outbox, by event type", ["type"]
)
EVENTS_READ = Counter(
    f"{PREFIX}_events_read",
    "Events this process's outbox reader read since it started, whoever wrote them, by type",
    ["type"],
)
EVENTS_DELIVERED = Counter(
    f"{PREFIX}_events_delivered",
    "Event frames handed to stream connections as they happened (one per stream reached)",
)
EVENTS_REPLAYED = Counter(
    f"{PREFIX}_events_replayed", "Missed events written to streams that reconnected"
)
RESYNCS = Counter(
    f"{PREFIX}_resyncs_sent",
    "Resyncs sent instead of events: the page re-fetches its table",
    ["reason"],
)
DUPLICATES_SUPPRESSED = Counter(
    f"{PREFIX}_duplicates_suppressed",
    "Retried status changes (a double click, a resent form) that changed nothing",
)
SLOW_CLIENTS_DROPPED = Counter(
    f"{PREFIX}_slow_clients_dropped",
    "Backlogs of streams too slow to keep up, dropped for a single resync",
)
OUTBOX_LAG_EVENTS = Gauge(
    f"{PREFIX}_outbox_lag_events",
    "Committed events this process's outbox reader has not read yet (measured at scrape)",
    multiprocess_mode="livemax",
)
OUTBOX_LAG_SECONDS = Gauge(
    f"{PREFIX}_outbox_lag_seconds",
    "Age of the oldest committed event this process has not read yet (measured at scrape)",
    multiprocess_mode="livemax",
)
DELIVERY_DELAY = Histogram(
    f"{PREFIX}_delivery_delay_seconds",
    "From an event's commit until this process has written it to every stream able to take it",
    buckets=DELAY_BUCKETS,
)
STATUS_CHANGES = Counter(
    f"{PREFIX}_status_changes",
    "Attempted status changes by kind and outcome: ok, duplicate, rule_error, conflict, "
    "forbidden, not_found, error",
    ["kind", "outcome"],
)
COMMIT_LISTENER_ERRORS = Counter(
    f"{PREFIX}_commit_listener_errors",
    "Errors raised by what runs after a change commits (waking the outbox reader, writing to "
    "streams); the change itself stands",
)
LOGIN_LOCKOUTS = Counter(
    f"{PREFIX}_login_lockouts",
    "Failed logins that filled a count, refusing the next attempts for LOGIN_LOCKOUT_MINUTES, by "
    "what they lock: address, device (a browser that signed in before), account (from one "
    "address or device), account_global (from every address and device it does not know)",
    ["scope"],
)
