"""Sample data for the live pieces: toasts made from real event payloads, and monitor panels made
by the monitor's own `snapshot` from a hub (never started) holding demo events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from purchasing.domain.money import WIB
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.gallery.samples import COMPANY_ID, NOW, SUPPLIERS, actor, invoice
from purchasing.live.events import ChangeAction, Event, PurchaseChanged, Who, encode, wire
from purchasing.live.hub import Hub
from purchasing.live.stream import readable_kinds, visible_to
from purchasing.live.subscriber import Owner, Subscriber
from purchasing.presentation.toasts import wording
from purchasing.services.demo_data import PATHS
from purchasing.settings import Settings
from purchasing.web.monitor import snapshot

# Who makes the sample changes: the demo's Supervisor and one of its Operators, in turn.
WHO = (actor(Role.SUPERVISOR), actor(Role.OPERATOR))
MOVES = (Status.PENDING, Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED, Status.CANCELLED)


def event_data(
    new: Status,
    old: Status | None = Status.IN_TRANSIT,
    kind: Kind = Kind.SUPPLY,
    number: int = 7,
    at: datetime = NOW,
) -> dict[str, Any]:
    """The contract's JSON for a change to purchase `number`, as pages receive it."""
    who = WHO[number % 2]
    if old is None:
        action = ChangeAction.CREATED
    elif old is new:
        action = ChangeAction.EDITED
    else:
        action = ChangeAction.STATUS_CHANGED
    change = PurchaseChanged(
        action=action,
        kind=kind,
        purchase_id=number,
        invoice_number=invoice(kind, number),
        supplier=SUPPLIERS[number % len(SUPPLIERS)],
        company_id=COMPANY_ID,
        farm_id=1 + number % 2,
        old_status=old,
        new_status=new,
        version=len(PATHS[new]) + 1,
        changed_by=Who(who.id, who.full_name),
        changed_at=at,
    )
    return wire(number, change, wording)


def toast(
    new: Status, old: Status | None = Status.IN_TRANSIT, kind: Kind = Kind.SUPPLY
) -> dict[str, str]:
    """A toast as app.js fills it from the event: priority, title, message, who and when."""
    data = event_data(new, old, kind)
    return {
        "priority": data["priority"],
        "title": data["title"],
        "message": data["message"],
        "meta": f"{data['changed_by']['name']} · {NOW:%H.%M} WIB",
    }


def monitor(events: int = 0, streams: int = 0, viewer: Role = Role.ADMINISTRATOR) -> dict[str, Any]:
    """The panel's figures after `events` changes spread over the last quarter of an hour, with
    `streams` pages open to receive them, as `viewer` sees them."""
    hub = Hub(
        wording=wording,
        queue_limit=Settings.stream_queue_limit,
        retention=Settings.event_retention,
        catch_up_s=Settings.catch_up_s,
    )
    now = NOW.timestamp()
    for n in range(1, events + 1):
        kind, new = list(Kind)[n % 3], MOVES[n % len(MOVES)]
        minute = n * 15 // (events + 1)  # 0 (the oldest of the chart) to 14 (the current one)
        at = now - 60 * (14 - minute) + n % 60
        data = event_data(new, None if n % 9 == 0 else Status.DRAFT, kind, n, _clock(at))
        frame = encode(n, kind.event_type, data)
        event = Event(n, kind.event_type, kind.value, COMPANY_ID, data["farm_id"], frame, data, at)
        hub.ring.append(event)
        hub.recent.add(event, at, 0.004 + (n % 7) * 0.0015 if streams else None)
    hub.last_id = events
    for n in range(streams):
        reader = WHO[n % 2]
        hub.subscribers.add(
            Subscriber(
                visible_to(reader),
                events,
                hub.queue_limit,
                hub.stats,
                Owner(f"sample-{n}", reader),
                kinds=readable_kinds(reader),
            )
        )
    hub.stats.delivered = events * streams
    hub.stats.replayed = events // 4
    hub.stats.resyncs = streams // 5
    return snapshot(hub, actor(viewer), now)


def _clock(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, WIB)
