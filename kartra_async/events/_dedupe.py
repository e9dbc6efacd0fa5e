"""Recognise the same purchase arriving twice: as an outbound event and as an IPN.

Outbound events carry no signature, so anyone who finds their URL can post one. If any event
could mark a transaction as seen, a forged ``buy_product`` naming the next transaction id would
make the genuine IPN a "duplicate" and hide a real payment. So only an *authenticated* IPN (its
``secret_key`` checked) marks a transaction as seen for everyone; unauthenticated events are
deduplicated among themselves, apart, and against authenticated IPNs, never the other way round.
An outbound event followed by the IPN of the same purchase therefore delivers both (the IPN is
the authoritative one); the IPN followed by the event delivers the IPN only.
"""

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


class _Seen:
    """The last ``max_entries`` keys seen, oldest forgotten first."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._keys: OrderedDict[tuple[int, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def touch(self, key: tuple[int, str]) -> None:
        """Remember ``key`` as the newest."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return
        self._keys[key] = None
        if len(self._keys) > self._max:
            self._keys.popitem(last=False)


class PurchaseDeduplicator:
    """Remembers the last ``max_entries`` purchases seen per source, oldest forgotten first.

    Two sources are kept apart: authenticated IPNs (the only ones that mark a transaction as
    seen for everyone) and unauthenticated events (outbound events, IPNs without a checked
    secret), which can only suppress each other. Not thread-safe; meant for one event loop.
    Memory is bounded by ``2 * max_entries`` keys.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._authenticated = _Seen(max_entries)
        self._unauthenticated = _Seen(max_entries)

    def __len__(self) -> int:
        return len(self._authenticated) + len(self._unauthenticated)

    def is_duplicate(
        self,
        event: TypedEvent | UnknownEvent | IpnNotification,
        *,
        authenticated: bool = False,
    ) -> bool:
        """True if this purchase was already seen; records it otherwise.

        ``authenticated`` says the event's origin was checked (an IPN whose ``secret_key``
        matched). An authenticated event is a duplicate only of an earlier authenticated one;
        an unauthenticated event is a duplicate of any earlier event. Events that are not about
        a transaction are never duplicates.
        """
        key = purchase_key(event)
        if key is None:
            return False
        if authenticated:
            seen = key in self._authenticated
            self._authenticated.touch(key)
            return seen
        if key in self._authenticated:
            self._authenticated.touch(key)
            return True
        seen = key in self._unauthenticated
        self._unauthenticated.touch(key)
        return seen
