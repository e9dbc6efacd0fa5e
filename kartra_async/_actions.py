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

    def __init_subclass__(
        cls,
        *,
        cmd: str | None = None,
        scope: Scope | None = None,
        safety: Safety | None = None,
        opener: bool | None = None,
        **kwargs: Any,
    ) -> None:
        # The class keywords state each command's facts in its class line. attrs re-creates
        # slotted classes without the keywords, so a missing one keeps what is already set.
        super().__init_subclass__(**kwargs)
        if cmd is not None:
            cls.cmd = cmd
        if scope is not None:
            cls.scope = scope
        if safety is not None:
            cls.safety = safety
        if opener is not None:
            cls.opener = opener

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
class CreateLead(Action, cmd="create_lead", scope="lead", safety=Safety.RECONCILE, opener=True):
    """``create_lead``: create the call's lead from its fields (244 if the email exists)."""


@attrs.frozen
class EditLead(Action, cmd="edit_lead", scope="lead", safety=Safety.REPEATABLE, opener=True):
    """``edit_lead``: change the sent fields of an existing lead; ``new_email`` renames it."""

    new_email: str | None = attrs.field(default=None)

    @new_email.validator
    def _check(self, _attribute: object, value: str | None) -> None:
        if value is not None:
            check_email("new_email", value)


@attrs.frozen
class SearchLead(Action, cmd="search_lead", scope="lead", safety=Safety.READ, opener=True):
    """``search_lead``: check that the lead exists (and learn its id)."""


#: How an upsert tries: create and fall back to edit, the reverse, or learn from the hit rate.
UpsertStrategy = Literal["create-first", "edit-first", "adaptive"]
UPSERT_STRATEGIES: Final[tuple[UpsertStrategy, ...]] = ("create-first", "edit-first", "adaptive")


@attrs.frozen
class UpsertLead(Action, cmd="upsert", scope="lead", safety=Safety.RECONCILE, opener=True):
    """Not a Kartra command: the client turns it into create or edit (Kartra cannot upsert).

    ``strategy`` is "create-first", "edit-first" or "adaptive" (the client learns which is
    cheaper from the hit rate it observes).
    """

    strategy: UpsertStrategy = attrs.field(default="adaptive")

    @strategy.validator
    def _check(self, _attribute: object, value: str) -> None:
        check_choice("strategy", value, UPSERT_STRATEGIES)


# --- lead-scoped actions -----------------------------------------------------------------------


@attrs.frozen
class AssignTag(Action, cmd="assign_tag", scope="lead", safety=Safety.REPEATABLE):
    """``assign_tag``: put an existing tag on the lead."""

    tag_name: str = attrs.field(validator=_nonempty("tag_name"))


@attrs.frozen
class UnassignTag(Action, cmd="unassign_tag", scope="lead", safety=Safety.REPEATABLE):
    """``unassign_tag``: take a tag off the lead (a no-op if it does not carry it)."""

    tag_name: str = attrs.field(validator=_nonempty("tag_name"))


@attrs.frozen
class SubscribeToList(Action, cmd="subscribe_lead_to_list", scope="lead", safety=Safety.REPEATABLE):
    """``subscribe_lead_to_list``: subscribe the lead to an existing list."""

    list_name: str = attrs.field(validator=_nonempty("list_name"))


@attrs.frozen
class UnsubscribeFromList(
    Action, cmd="unsubscribe_lead_from_list", scope="lead", safety=Safety.REPEATABLE
):
    """``unsubscribe_lead_from_list``: unsubscribe the lead from a list."""

    list_name: str = attrs.field(validator=_nonempty("list_name"))


@attrs.frozen
class GivePoints(Action, cmd="give_points_to_lead", scope="lead", safety=Safety.NEVER):
    """``give_points_to_lead``: add points, optionally expiring after ``expiration`` days."""

    points: int = attrs.field(validator=_positive("points"))
    expiration: int | None = attrs.field(default=None)

    @expiration.validator
    def _check(self, _attribute: object, value: int | None) -> None:
        if value is not None:
            check_int("expiration", value, minimum=0)


@attrs.frozen
class RemovePoints(Action, cmd="remove_points_from_lead", scope="lead", safety=Safety.NEVER):
    """``remove_points_from_lead``: subtract points from the lead's score."""

    points: int = attrs.field(validator=_positive("points"))


def _step(value: object) -> str:
    # Kartra's step is a box number; accept 3 as well as "3".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value  # type: ignore[return-value]  # validated as text right after


@attrs.frozen
class SubscribeToSequence(
    Action, cmd="subscribe_lead_to_sequence_at_step", scope="lead", safety=Safety.REPEATABLE
):
    """``subscribe_lead_to_sequence_at_step``: start the lead on a sequence at a step number."""

    sequence_name: str = attrs.field(validator=_nonempty("sequence_name"))
    step: str = attrs.field(converter=_step)

    @step.validator
    def _check(self, _attribute: object, value: str) -> None:
        text = check_text("step", value, allow_empty=False)
        if not text.isalnum():
            raise ValidationError("step", f"{text!r} must be alphanumeric (a step box number)")


@attrs.frozen
class UnsubscribeFromSequence(
    Action, cmd="unsubscribe_lead_from_sequence", scope="lead", safety=Safety.REPEATABLE
):
    """``unsubscribe_lead_from_sequence``: take the lead off a sequence."""

    sequence_name: str = attrs.field(validator=_nonempty("sequence_name"))


@attrs.frozen
class CalendarSubscribe(Action, cmd="calendar_subscribe", scope="lead", safety=Safety.NEVER):
    """``calendar_subscribe``: book the lead into a class, optionally at a date and hour (EST).

    Not repeatable: a second booking could hold a second seat, so a lost reply is reported as
    an unknown outcome rather than replayed.
    """

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
class CalendarCancel(Action, cmd="calendar_cancel", scope="lead", safety=Safety.REPEATABLE):
    """``calendar_cancel``: cancel the lead's booking in a class."""

    calendar_name: str = attrs.field(validator=_nonempty("calendar_name"))
    class_name: str = attrs.field(validator=_nonempty("class_name"))


@attrs.frozen
class RetrieveTransactions(
    Action, cmd="retrieve_transactions_from_lead", scope="lead", safety=Safety.READ
):
    """``retrieve_transactions_from_lead``: the lead's transactions."""


@attrs.frozen
class RetrieveSubscriptions(
    Action, cmd="retrieve_subscriptions_from_lead", scope="lead", safety=Safety.READ
):
    """``retrieve_subscriptions_from_lead``: the lead's recurring subscriptions."""


# --- account-level actions ---------------------------------------------------------------------


def _options(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValidationError("custom_field_options", "must be a list of option names")
    return tuple(value)


@attrs.frozen
class CreateCustomField(
    Action, cmd="create_custom_field", scope="account", safety=Safety.RECONCILE
):
    """``create_custom_field``: define a custom field; multi-choice types need ≥ 2 options."""

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


@attrs.frozen
class RetrieveCustomFields(
    Action, cmd="retrieve_custom_fields", scope="account", safety=Safety.READ
):
    """``retrieve_custom_fields``: the account's custom field definitions."""


@attrs.frozen
class RetrieveAccountLists(
    Action, cmd="retrieve_account_lists", scope="account", safety=Safety.READ
):
    """``retrieve_account_lists``: the account's list names."""


@attrs.frozen
class RetrieveAccountTags(Action, cmd="retrieve_account_tags", scope="account", safety=Safety.READ):
    """``retrieve_account_tags``: the account's tag names."""


@attrs.frozen
class RetrieveAccountSequences(
    Action, cmd="retrieve_account_sequences", scope="account", safety=Safety.READ
):
    """``retrieve_account_sequences``: the account's sequence names."""


@attrs.frozen
class RetrieveAccountPages(
    Action, cmd="retrieve_account_pages", scope="account", safety=Safety.READ
):
    """``retrieve_account_pages``: the account's page names."""


@attrs.frozen
class SearchTransaction(Action, cmd="search_transaction", scope="account", safety=Safety.READ):
    """``search_transaction``: does this transaction exist?"""

    transaction_id: int = attrs.field(validator=_positive("transaction_id"))


@attrs.frozen
class GetTransactionDetails(
    Action, cmd="get_transaction_details", scope="account", safety=Safety.READ
):
    """``get_transaction_details``: a transaction's full record."""

    transaction_id: int = attrs.field(validator=_positive("transaction_id"))


@attrs.frozen
class RefundTransaction(Action, cmd="refund_transaction", scope="account", safety=Safety.NEVER):
    """``refund_transaction``: refund a sale or rebill, fully or partly. Moves money."""

    transaction_id: int = attrs.field(validator=_positive("transaction_id"))
    refund_amount: Decimal | None = attrs.field(default=None, converter=_refund_amount)


@attrs.frozen
class CancelTransaction(Action, cmd="cancel_transaction", scope="account", safety=Safety.NEVER):
    """``cancel_transaction``: cancel the recurring subscription behind a transaction."""

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
class SearchSubscription(Action, cmd="search_subscription", scope="account", safety=Safety.READ):
    """``search_subscription``: does this subscription exist?"""

    subscription_id: int = attrs.field(validator=_positive("subscription_id"))


@attrs.frozen
class GetSubscriptionDetails(
    Action, cmd="get_subscription_details", scope="account", safety=Safety.READ
):
    """``get_subscription_details``: a subscription's full record."""

    subscription_id: int = attrs.field(validator=_positive("subscription_id"))


@attrs.frozen
class ModifySubscriptionStatus(
    Action, cmd="modify_subscription_status", scope="account", safety=Safety.NEVER
):
    """``modify_subscription_status``: cancel, pause or unpause a subscription."""

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
class EditSubscription(Action, cmd="edit_subscription", scope="account", safety=Safety.NEVER):
    """``edit_subscription``: change product, price, dates, amount, recurrence, quantity or tax."""

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
class Custom(Action, cmd="<custom>", scope="lead", safety=Safety.NEVER):
    """Any other ``cmd`` with its parameters, for commands Kartra adds after this release.

    Its safety defaults to ``NEVER`` (a lost reply is reported, never replayed) because nothing
    is known about it; pass ``safety=`` when you know better.
    """

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
