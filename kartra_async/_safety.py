"""How safe each Kartra command is to send again when its reply was lost.

Kartra has no idempotency keys, so the client decides per command (docs: "Retries by
idempotency"). The classification lives with each action class (``Action.safety``); the retry
policy only ever sees this enum.
"""

from __future__ import annotations

import enum


class Safety(enum.Enum):
    """What a lost reply means for a command, from safest to most dangerous."""

    #: Reads change nothing: always safe to resend.
    READ = "read"
    #: Sets state to a value (tag on, list on, fields = x): resending has the same effect.
    REPEATABLE = "repeatable"
    #: Creates something once (create_lead, create_custom_field): a blind resend fails or
    #: duplicates, so the client checks by reading whether it happened before resending.
    RECONCILE = "reconcile"
    #: Moves points or money (points, refunds, cancellations, subscription changes): never
    #: resent after it may have been received; the caller is told the outcome is unknown.
    NEVER = "never"
