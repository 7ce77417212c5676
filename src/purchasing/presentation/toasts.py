"""How a change is worded for people: the title and message of its toast (and of its event, as
the contract carries them). The hub is given this to word each event once for every page."""

from __future__ import annotations

from purchasing.live.events import ChangeAction, PurchaseChanged


def wording(change: PurchaseChanged) -> tuple[str, str]:
    """`change`'s toast: a title, and a message saying what happened to which purchase and who
    did it."""
    who = change.changed_by.name
    kind = change.kind.value
    subject = (
        f"{change.invoice_number} ({change.supplier})" if change.supplier else change.invoice_number
    )
    new = change.new_status
    if change.action is ChangeAction.DELETED:
        return f"{kind.title()} purchase deleted", f"{subject} was deleted by {who}."
    if change.action is ChangeAction.CREATED:
        return f"New {kind} purchase", f"{subject} was created as {new.label} by {who}."
    if change.action is ChangeAction.EDITED:
        return f"{kind.title()} purchase edited", f"{subject}: details edited by {who}."
    old = change.old_status.label if change.old_status else ""
    return (
        f"{kind.title()} purchase {new.label.lower()}",
        f"{subject}: {old} → {new.label} by {who}.",
    )
