"""Sample data for the live pieces: toasts made from real event payloads, and monitor panels made
by the panel's own view model from a hub's snapshot holding demo events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from purchasing.domain.money import WIB
from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status
from purchasing.gallery.samples import COMPANY_ID, NOW, SUPPLIERS, actor, invoice
from purchasing.live.events import ChangeAction, Event, PurchaseChanged, Who, encode, wire
from purchasing.live.hub import Snapshot
from purchasing.live.recent import Recent
from purchasing.live.stream import readable_kinds, visible_to
from purchasing.live.subscriber import HubStats
from purchasing.presentation.monitor import panel
from purchasing.presentation.toasts import wording
from purchasing.services.demo_data import PATHS

# Who makes the sample changes: the demo's Supervisor and one of its Operators, in turn.
WHO = (actor(Role.SUPERVISOR), actor(Role.OPERATOR))
LAST_EVENTS = 20  # as the monitor page shows
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
    """A toast as static/js/toasts.js fills it from the event: priority, title, message, who and
    when."""
    data = event_data(new, old, kind)
    return {
        "priority": data["priority"],
        "title": data["title"],
        "message": data["message"],
        "meta": f"{data['changed_by']['name']} · {NOW:%H.%M} WIB",
    }


def monitor(events: int = 0, streams: int = 0, viewer: Role = Role.ADMINISTRATOR) -> dict[str, Any]:
    """The panel after `events` changes spread over the last quarter of an hour, with `streams`
    pages open to receive them, as `viewer` sees it (all readers are of the viewer's company)."""
    now = NOW.timestamp()
    recent, sent = Recent(), []
    for n in range(1, events + 1):
        kind, new = list(Kind)[n % 3], MOVES[n % len(MOVES)]
        minute = n * 15 // (events + 1)  # 0 (the oldest of the chart) to 14 (the current one)
        at = now - 60 * (14 - minute) + n % 60
        data = event_data(new, None if n % 9 == 0 else Status.DRAFT, kind, n, _clock(at))
        frame = encode(n, kind.event_type, data)
        event = Event(n, kind.event_type, kind.value, COMPANY_ID, data["farm_id"], frame, data, at)
        sent.append(event)
        recent.add(event, at, 0.004 + (n % 7) * 0.0015 if streams else None)
    looker = actor(viewer)
    visible = visible_to(looker)
    counters = HubStats(
        events_read=events,
        delivered=events * streams,
        replayed=events // 4,
        resyncs=streams // 5,
    )
    figures = Snapshot(
        streams=streams,
        streams_per_kind=Counter(k for n in range(streams) for k in readable_kinds(WHO[n % 2])),
        minutes=recent.series(now, None if looker.sees_everything else COMPANY_ID),
        last_events=[e for e in reversed(sent) if visible(e)][:LAST_EVENTS],
        counters=counters,
        last_id=events,
    )
    return panel(figures, looker.sees_everything, suppressed=events // 10)


def _clock(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, WIB)
