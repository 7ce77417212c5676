"""The purchases a stream may say its browser has open: only those its user may see, and as
editing only those its user may edit now."""

from __future__ import annotations

from purchasing.domain.actor import Actor
from purchasing.domain.permissions import Action, can
from purchasing.domain.statuses import Kind, Status, is_editable
from purchasing.live.presence import Here, judged_mode
from purchasing.services.scope import purchase_filter
from purchasing.tables import Purchase


async def visible_heres(actor: Actor, wanted: list[tuple[str, int, str]]) -> tuple[Here, ...]:
    """`wanted` (kind, purchase id, mode) kept where the purchase exists, is of that kind and the
    actor may read it, each with its scope and status as of its version; `editing` becomes
    `viewing` unless the actor may edit it now. One query whatever the count."""
    readable = {kind.value for kind in Kind if can(actor.role, Action.READ, kind)}
    wanted = [w for w in wanted if w[0] in readable]
    if not wanted:
        return ()
    where = Purchase.id.is_in(sorted({purchase_id for _, purchase_id, _ in wanted}))
    clause = purchase_filter(actor)
    if clause is not None:
        where = where & clause
    rows = await Purchase.select(
        Purchase.id,
        Purchase.kind,
        Purchase.company,
        Purchase.farm,
        Purchase.status,
        Purchase.version,
    ).where(where)
    found = {(row["kind"], row["id"]): row for row in rows}
    heres = []
    for kind, purchase_id, mode in wanted:
        row = found.get((kind, purchase_id))
        if row is None:
            continue
        status = Status(row["status"])
        mode = judged_mode(mode, actor.role, kind, is_editable(status))
        heres.append(
            Here(kind, purchase_id, mode, row["company"], row["farm"], status, row["version"])
        )
    return tuple(dict.fromkeys(heres))
