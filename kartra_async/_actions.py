"""One frozen class per Kartra ``cmd``, with the facts the client needs about each.

Class-level facts: ``cmd`` (the wire name), ``scope`` ("lead" for commands acting on the
call's lead, "account" for commands that need none), ``opener`` (create/edit/search must be
``actions[0]``) and ``safety`` (what a lost reply means; see ``_safety.Safety``). Field names
are the wire parameter names, so the converter needs no renaming table. Each class validates
its own values when built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal

import attrs

from ._errors import ValidationError
from ._model import (
    check_amount,
    check_calendar_date,
    check_calendar_hour,
    check_choice,
    check_email,
    check_identifier,
    check_int,
    check_payment_datetime,
    check_text,
)
from ._safety import Safety

Scope = Literal["lead", "account"]

CUSTOM_FIELD_TYPES: Final = ("input_field", "text_area", "drop_down", "radio_button", "checkbox")
MULTI_CHOICE_TYPES: Final = frozenset({"drop_down", "radio_button", "checkbox"})
RECURRING_PERIODS: Final = (
    "monthly",
    "every 2 months",
    "quarterly",
    "yearly",
    "every 2 years",
    "weekly",
    "every 2 weeks",
)
SECOND_RECURRING_PERIODS: Final = ("yearly", "every 2 years")
STATUS_MODIFICATIONS: Final = ("cancel", "pause", "unpause")


class Action:
    """Base of every action. Subclasses are frozen attrs classes; see the module docstring."""

    __slots__ = ()

    cmd: ClassVar[str]
    scope: ClassVar[Scope]
    safety: ClassVar[Safety]
    opener: ClassVar[bool] = False

    @property
    def wire_cmd(self) -> str:
        """The ``cmd`` value sent to Kartra (an instance property so ``Custom`` can vary it)."""
        return self.cmd

    @property
    def action_safety(self) -> Safety:
        """The safety class of this action instance."""
        return self.safety

    @property
    def action_scope(self) -> Scope:
        """Whether this action instance acts on the call's lead or on the account."""
        return self.scope


def _nonempty(field: str) -> Callable[[Any, Any, Any], None]:
    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        check_text(field, value, allow_empty=False)

    return validate


def _positive(field: str) -> Callable[[Any, Any, Any], None]:
    def validate(_instance: Any, _attribute: Any, value: Any) -> None:
        check_int(field, value, minimum=1)

    return validate


# attrs converters must be named functions for mypy's attrs plugin: one per normalised field.


def _starting_date(value: object) -> str | None:
    return None if value is None else check_calendar_date("starting_date", value)


def _starting_hour(value: object) -> str | None:
    return None if value is None else check_calendar_hour("starting_hour", value)


def _custom_field_type(value: object) -> str:
    return check_choice("custom_field_type", value, CUSTOM_FIELD_TYPES)


def _refund_amount(value: object) -> Decimal | None:
    return None if value is None else check_amount("refund_amount", value)


def _status_modification(value: object) -> str:
    return check_choice("subscription_status_modification", value, STATUS_MODIFICATIONS)


def _period_1(value: object) -> str:
    return check_choice("recurring_period_1", value, RECURRING_PERIODS)


def _period_2(value: object) -> str | None:
    if value is None:
        return None
    return check_choice("recurring_period_2", value, SECOND_RECURRING_PERIODS)


def _product_id(value: object) -> int | None:
    return None if value is None else check_int("subscription_product_id", value, minimum=1)


def _price_point(value: object) -> int | None:
    return None if value is None else check_int("subscription_price_point", value, minimum=1)


def _quantity(value: object) -> int | None:
    return None if value is None else check_int("subscription_product_quantity", value, minimum=1)


def _next_payment_date(value: object) -> str | None:
    if value is None:
        return None
    return check_payment_datetime("subscription_next_payment_date", value)


def _subscription_amount(value: object) -> Decimal | None:
    return None if value is None else check_amount("subscription_amount", value)


# --- lead openers: must be actions[0] ---------------------------------------------------------


@attrs.frozen
class CreateLead(Action):
    """``create_lead``: create the call's lead from its fields (244 if the email exists)."""

    cmd: ClassVar[str] = "create_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.RECONCILE
    opener: ClassVar[bool] = True


@attrs.frozen
class EditLead(Action):
    """``edit_lead``: change the sent fields of an existing lead; ``new_email`` renames it."""

    cmd: ClassVar[str] = "edit_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    opener: ClassVar[bool] = True

    new_email: str | None = attrs.field(default=None)

    @new_email.validator
    def _check(self, _attribute: object, value: str | None) -> None:
        if value is not None:
            check_email("new_email", value)


@attrs.frozen
class SearchLead(Action):
    """``search_lead``: check that the lead exists (and learn its id)."""

    cmd: ClassVar[str] = "search_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.READ
    opener: ClassVar[bool] = True


@attrs.frozen
class UpsertLead(Action):
    """Not a Kartra command: the client turns it into create or edit (Kartra cannot upsert).

    ``strategy`` is "create-first", "edit-first" or "adaptive" (the client learns which is
    cheaper from the hit rate it observes).
    """

    cmd: ClassVar[str] = "upsert"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.RECONCILE
    opener: ClassVar[bool] = True

    strategy: str = attrs.field(default="adaptive")

    @strategy.validator
    def _check(self, _attribute: object, value: str) -> None:
        check_choice("strategy", value, ("create-first", "edit-first", "adaptive"))


# --- lead-scoped actions -----------------------------------------------------------------------


@attrs.frozen
class AssignTag(Action):
    """``assign_tag``: put an existing tag on the lead."""

    cmd: ClassVar[str] = "assign_tag"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    tag_name: str = attrs.field(validator=_nonempty("tag_name"))


@attrs.frozen
class UnassignTag(Action):
    """``unassign_tag``: take a tag off the lead (a no-op if it does not carry it)."""

    cmd: ClassVar[str] = "unassign_tag"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    tag_name: str = attrs.field(validator=_nonempty("tag_name"))


@attrs.frozen
class SubscribeToList(Action):
    """``subscribe_lead_to_list``: subscribe the lead to an existing list."""

    cmd: ClassVar[str] = "subscribe_lead_to_list"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    list_name: str = attrs.field(validator=_nonempty("list_name"))


@attrs.frozen
class UnsubscribeFromList(Action):
    """``unsubscribe_lead_from_list``: unsubscribe the lead from a list."""

    cmd: ClassVar[str] = "unsubscribe_lead_from_list"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    list_name: str = attrs.field(validator=_nonempty("list_name"))


@attrs.frozen
class GivePoints(Action):
    """``give_points_to_lead``: add points, optionally expiring after ``expiration`` days."""

    cmd: ClassVar[str] = "give_points_to_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.NEVER
    points: int = attrs.field(validator=_positive("points"))
    expiration: int | None = attrs.field(default=None)

    @expiration.validator
    def _check(self, _attribute: object, value: int | None) -> None:
        if value is not None:
            check_int("expiration", value, minimum=0)


@attrs.frozen
class RemovePoints(Action):
    """``remove_points_from_lead``: subtract points from the lead's score."""

    cmd: ClassVar[str] = "remove_points_from_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.NEVER
    points: int = attrs.field(validator=_positive("points"))


def _step(value: object) -> str:
    # Kartra's step is a box number; accept 3 as well as "3".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value  # type: ignore[return-value]  # validated as text right after


@attrs.frozen
class SubscribeToSequence(Action):
    """``subscribe_lead_to_sequence_at_step``: start the lead on a sequence at a step number."""

    cmd: ClassVar[str] = "subscribe_lead_to_sequence_at_step"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    sequence_name: str = attrs.field(validator=_nonempty("sequence_name"))
    step: str = attrs.field(converter=_step)

    @step.validator
    def _check(self, _attribute: object, value: str) -> None:
        text = check_text("step", value, allow_empty=False)
        if not text.isalnum():
            raise ValidationError("step", f"{text!r} must be alphanumeric (a step box number)")


@attrs.frozen
class UnsubscribeFromSequence(Action):
    """``unsubscribe_lead_from_sequence``: take the lead off a sequence."""

    cmd: ClassVar[str] = "unsubscribe_lead_from_sequence"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    sequence_name: str = attrs.field(validator=_nonempty("sequence_name"))


@attrs.frozen
class CalendarSubscribe(Action):
    """``calendar_subscribe``: book the lead into a class, optionally at a date and hour (EST).

    Not repeatable: a second booking could hold a second seat, so a lost reply is reported as
    an unknown outcome rather than replayed.
    """

    cmd: ClassVar[str] = "calendar_subscribe"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.NEVER
    calendar_name: str = attrs.field(validator=_nonempty("calendar_name"))
    class_name: str = attrs.field(validator=_nonempty("class_name"))
    starting_date: str | None = attrs.field(
        default=None,
        converter=_starting_date,
    )
    starting_hour: str | None = attrs.field(
        default=None,
        converter=_starting_hour,
    )


@attrs.frozen
class CalendarCancel(Action):
    """``calendar_cancel``: cancel the lead's booking in a class."""

    cmd: ClassVar[str] = "calendar_cancel"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.REPEATABLE
    calendar_name: str = attrs.field(validator=_nonempty("calendar_name"))
    class_name: str = attrs.field(validator=_nonempty("class_name"))


@attrs.frozen
class RetrieveTransactions(Action):
    """``retrieve_transactions_from_lead``: the lead's transactions."""

    cmd: ClassVar[str] = "retrieve_transactions_from_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.READ


@attrs.frozen
class RetrieveSubscriptions(Action):
    """``retrieve_subscriptions_from_lead``: the lead's recurring subscriptions."""

    cmd: ClassVar[str] = "retrieve_subscriptions_from_lead"
    scope: ClassVar[Scope] = "lead"
    safety: ClassVar[Safety] = Safety.READ


# --- account-level actions ---------------------------------------------------------------------


def _options(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValidationError("custom_field_options", "must be a list of option names")
    return tuple(value)


@attrs.frozen
class CreateCustomField(Action):
    """``create_custom_field``: define a custom field; multi-choice types need ≥ 2 options."""

    cmd: ClassVar[str] = "create_custom_field"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.RECONCILE
    custom_field_identifier: str = attrs.field()
    custom_field_type: str = attrs.field(converter=_custom_field_type)
    custom_field_options: tuple[str, ...] = attrs.field(default=(), converter=_options)

    def __attrs_post_init__(self) -> None:
        check_identifier("custom_field_identifier", self.custom_field_identifier)
        for index, name in enumerate(self.custom_field_options):
            check_text(f"custom_field_options[{index}]", name, allow_empty=False)
        if self.custom_field_type in MULTI_CHOICE_TYPES:
            if len(self.custom_field_options) < 2:
                raise ValidationError(
                    "custom_field_options",
                    f"a {self.custom_field_type} field needs at least two options",
                )
        elif self.custom_field_options:
            raise ValidationError(
                "custom_field_options", f"a {self.custom_field_type} field takes no options"
            )


def _retrieve(cmd_name: str, doc: str) -> type[Action]:
    @attrs.frozen
    class Retrieve(Action):
        cmd: ClassVar[str] = cmd_name
        scope: ClassVar[Scope] = "account"
        safety: ClassVar[Safety] = Safety.READ

    Retrieve.__doc__ = doc
    return Retrieve


RetrieveCustomFields = _retrieve(
    "retrieve_custom_fields", "``retrieve_custom_fields``: the account's custom field definitions."
)
RetrieveAccountLists = _retrieve(
    "retrieve_account_lists", "``retrieve_account_lists``: the account's list names."
)
RetrieveAccountTags = _retrieve(
    "retrieve_account_tags", "``retrieve_account_tags``: the account's tag names."
)
RetrieveAccountSequences = _retrieve(
    "retrieve_account_sequences", "``retrieve_account_sequences``: the account's sequence names."
)
RetrieveAccountPages = _retrieve(
    "retrieve_account_pages", "``retrieve_account_pages``: the account's page names."
)
for _cls, _name in (
    (RetrieveCustomFields, "RetrieveCustomFields"),
    (RetrieveAccountLists, "RetrieveAccountLists"),
    (RetrieveAccountTags, "RetrieveAccountTags"),
    (RetrieveAccountSequences, "RetrieveAccountSequences"),
    (RetrieveAccountPages, "RetrieveAccountPages"),
):
    _cls.__name__ = _cls.__qualname__ = _name


@attrs.frozen
class SearchTransaction(Action):
    """``search_transaction``: does this transaction exist?"""

    cmd: ClassVar[str] = "search_transaction"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.READ
    transaction_id: int = attrs.field(validator=_positive("transaction_id"))


@attrs.frozen
class GetTransactionDetails(Action):
    """``get_transaction_details``: a transaction's full record."""

    cmd: ClassVar[str] = "get_transaction_details"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.READ
    transaction_id: int = attrs.field(validator=_positive("transaction_id"))


@attrs.frozen
class RefundTransaction(Action):
    """``refund_transaction``: refund a sale or rebill, fully or partly. Moves money."""

    cmd: ClassVar[str] = "refund_transaction"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.NEVER
    transaction_id: int = attrs.field(validator=_positive("transaction_id"))
    refund_amount: Decimal | None = attrs.field(default=None, converter=_refund_amount)


@attrs.frozen
class CancelTransaction(Action):
    """``cancel_transaction``: cancel the recurring subscription behind a transaction."""

    cmd: ClassVar[str] = "cancel_transaction"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.NEVER
    transaction_id: int | None = None
    transaction_internal_subscription_id: int | None = None

    def __attrs_post_init__(self) -> None:
        given = [
            name
            for name in ("transaction_id", "transaction_internal_subscription_id")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValidationError(
                "transaction_id",
                "give exactly one of transaction_id or transaction_internal_subscription_id",
            )
        check_int(given[0], getattr(self, given[0]), minimum=1)


@attrs.frozen
class SearchSubscription(Action):
    """``search_subscription``: does this subscription exist?"""

    cmd: ClassVar[str] = "search_subscription"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.READ
    subscription_id: int = attrs.field(validator=_positive("subscription_id"))


@attrs.frozen
class GetSubscriptionDetails(Action):
    """``get_subscription_details``: a subscription's full record."""

    cmd: ClassVar[str] = "get_subscription_details"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.READ
    subscription_id: int = attrs.field(validator=_positive("subscription_id"))


@attrs.frozen
class ModifySubscriptionStatus(Action):
    """``modify_subscription_status``: cancel, pause or unpause a subscription."""

    cmd: ClassVar[str] = "modify_subscription_status"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.NEVER
    subscription_id: int = attrs.field(validator=_positive("subscription_id"))
    subscription_status_modification: str = attrs.field(converter=_status_modification)


@attrs.frozen
class Recurrence:
    """``subscription_recurrence``: period 1 always; period 2 only for recurring installments."""

    recurring_period_1: str = attrs.field(converter=_period_1)
    recurring_period_2: str | None = attrs.field(
        default=None,
        converter=_period_2,
    )


def _installments(value: object) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() == "until cancelled":
            return "until cancelled"
        raise ValidationError(
            "subscription_installments_left", "must be an int or 'until cancelled'"
        )
    return check_int("subscription_installments_left", value, minimum=1)


@attrs.frozen
class EditSubscription(Action):
    """``edit_subscription``: change product, price, dates, amount, recurrence, quantity or tax."""

    cmd: ClassVar[str] = "edit_subscription"
    scope: ClassVar[Scope] = "account"
    safety: ClassVar[Safety] = Safety.NEVER
    subscription_id: int = attrs.field(validator=_positive("subscription_id"))
    subscription_product_id: int | None = attrs.field(default=None, converter=_product_id)
    subscription_price_point: int | None = attrs.field(default=None, converter=_price_point)
    subscription_next_payment_date: str | None = attrs.field(
        default=None,
        converter=_next_payment_date,
    )
    subscription_amount: Decimal | None = attrs.field(
        default=None,
        converter=_subscription_amount,
    )
    subscription_recurrence: Recurrence | None = None
    subscription_product_quantity: int | None = attrs.field(default=None, converter=_quantity)
    subscription_installments_left: int | str | None = attrs.field(
        default=None, converter=_installments
    )
    subscription_tax_percent: Decimal | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        editable = [
            f.name for f in attrs.fields(type(self))[1:] if getattr(self, f.name) is not None
        ]
        if not editable:
            raise ValidationError("edit_subscription", "give at least one parameter to change")
        if (self.subscription_product_id is None) != (self.subscription_price_point is None):
            raise ValidationError(
                "subscription_product_id",
                "must be sent together with subscription_price_point",
            )
        quantity = self.subscription_product_quantity
        if quantity is not None and not 1 <= quantity <= 9999:
            raise ValidationError("subscription_product_quantity", "must be between 1 and 9,999")
        amount = self.subscription_amount
        if amount is not None and not Decimal("1.00") <= amount <= Decimal("9999.99"):
            raise ValidationError("subscription_amount", "must be between 1.00 and 9,999.99")
        tax = self.subscription_tax_percent
        if tax is not None:
            if isinstance(tax, bool) or not isinstance(tax, (int, Decimal)):
                raise ValidationError("subscription_tax_percent", "must be a Decimal or an int")
            # Decimal("NaN") would make the range comparison itself raise InvalidOperation.
            if isinstance(tax, Decimal) and not tax.is_finite():
                raise ValidationError("subscription_tax_percent", f"is not a number: {tax}")
            if not 0 <= tax <= 100:
                raise ValidationError("subscription_tax_percent", "must be between 0 and 100")


# --- the escape hatch --------------------------------------------------------------------------


def _param_value(path: str, value: object) -> object:
    # Keys become form keys: a bracket in one would inject other keys ("a][b"), so nested keys
    # follow the identifier rule; lists and maps are frozen so the call stays immutable.
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    if isinstance(value, str):
        return check_text(path, value)
    if isinstance(value, Mapping):
        return MappingProxyType(
            {
                check_identifier(f"{path} key", key): _param_value(f"{path}.{key}", item)
                for key, item in value.items()
            }
        )
    if isinstance(value, (list, tuple)):
        return tuple(_param_value(f"{path}[{index}]", item) for index, item in enumerate(value))
    raise ValidationError(path, f"cannot be sent as a form value: {type(value).__name__}")


def _frozen_params(value: Mapping[str, object]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValidationError("params", "must be a mapping of parameter names to values")
    return MappingProxyType(
        {key: _param_value(f"params.{key}", item) for key, item in value.items()}
    )


@attrs.frozen
class Custom(Action):
    """Any other ``cmd`` with its parameters, for commands Kartra adds after this release.

    Its safety defaults to ``NEVER`` (a lost reply is reported, never replayed) because nothing
    is known about it; pass ``safety=`` when you know better.
    """

    cmd: ClassVar[str] = "<custom>"
    safety: ClassVar[Safety] = Safety.NEVER
    scope: ClassVar[Scope] = "lead"

    name: str = attrs.field()
    params: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen_params)
    custom_safety: Safety = Safety.NEVER
    custom_scope: Scope = "lead"

    def __attrs_post_init__(self) -> None:
        check_identifier("cmd", self.name)
        for key in self.params:
            check_identifier(f"{self.name}.{key}", key)
            if key == "cmd":
                raise ValidationError(f"{self.name}.cmd", "is set from the command name")
        if self.name in COMMANDS or self.name == UpsertLead.cmd:
            raise ValidationError("cmd", f"{self.name!r} has a typed builder method; use it")

    @property
    def wire_cmd(self) -> str:
        """The custom command name."""
        return self.name

    @property
    def action_safety(self) -> Safety:
        """The caller-declared safety class (``NEVER`` unless told otherwise)."""
        return self.custom_safety

    @property
    def action_scope(self) -> Scope:
        """The caller-declared scope ("lead" unless told otherwise)."""
        return self.custom_scope


#: Every documented cmd -> its class (29 commands).
COMMANDS: Final[dict[str, type[Action]]] = {
    cls.cmd: cls
    for cls in (
        CreateLead,
        EditLead,
        SearchLead,
        AssignTag,
        UnassignTag,
        SubscribeToList,
        UnsubscribeFromList,
        GivePoints,
        RemovePoints,
        SubscribeToSequence,
        UnsubscribeFromSequence,
        CalendarSubscribe,
        CalendarCancel,
        CreateCustomField,
        RetrieveCustomFields,
        RetrieveAccountLists,
        RetrieveAccountTags,
        RetrieveAccountSequences,
        RetrieveAccountPages,
        RetrieveTransactions,
        RetrieveSubscriptions,
        SearchTransaction,
        GetTransactionDetails,
        RefundTransaction,
        SearchSubscription,
        GetSubscriptionDetails,
        CancelTransaction,
        ModifySubscriptionStatus,
        EditSubscription,
    )
}

#: cmd -> Safety, for the documentation's idempotency table.
SAFETY_TABLE: Final[dict[str, Safety]] = {cmd: cls.safety for cmd, cls in COMMANDS.items()}
