"""Recognise the same purchase arriving twice: as an outbound event and as an IPN."""

from __future__ import annotations

from collections import OrderedDict

from ..records import TransactionType
from ._ipn import IpnNotification
from ._outbound import EventAction, PurchaseEvent, TypedEvent, UnknownEvent

# What happened to the money, in both vocabularies. Keyed with the transaction id so that a
# refund event naming its original sale's id is not mistaken for that sale.
_OUTBOUND_CATEGORY = {
    EventAction.BUY_PRODUCT: "payment",
    EventAction.REFUND_PRODUCT: "refund",
    EventAction.PARTIAL_REFUND_PRODUCT: "partial_refund",
    EventAction.CANCEL_SUBSCRIPTION: "cancellation",
}
_IPN_CATEGORY = {
    TransactionType.SALE: "payment",
    TransactionType.REBILL: "payment",
    TransactionType.REFUND: "refund",
    TransactionType.PARTIAL_REFUND: "partial_refund",
    TransactionType.CHARGEBACK: "chargeback",
    TransactionType.FAILED: "failed",
    TransactionType.CANCELLATION: "cancellation",
}


def purchase_key(
    event: TypedEvent | UnknownEvent | IpnNotification,
) -> tuple[int, str] | None:
    """The identity of the money movement an event reports, or None if it reports none."""
    if isinstance(event, PurchaseEvent):
        return event.transaction.transaction_id, _OUTBOUND_CATEGORY[event.action]
    if isinstance(event, IpnNotification):
        category = _IPN_CATEGORY.get(event.transaction_type)  # type: ignore[call-overload]
        return event.transaction_id, category or str(event.transaction_type)
    return None


class PurchaseDeduplicator:
    """Remembers the last ``max_entries`` purchases seen, oldest forgotten first.

    Not thread-safe; meant for one event loop. Memory is bounded by ``max_entries``.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def is_duplicate(self, event: TypedEvent | UnknownEvent | IpnNotification) -> bool:
        """True if this purchase was already seen; records it otherwise.

        Events that are not about a transaction are never duplicates.
        """
        key = purchase_key(event)
        if key is None:
            return False
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return False
