"""The fluent, immutable builder: what a call to Kartra says, checked before it can be sent.

Two stages make the lead rule of Kartra's docs ("create, edit or search must be actions[0]")
a type error instead of a runtime surprise::

    LeadRequest(email="a@b.co").create().assign_tag("VIP").subscribe("News")

``LeadRequest`` has only ``create()``, ``edit()``, ``search()`` and ``upsert()``. The first
three return a ``LeadCall`` holding the opener; ``upsert()`` returns an ``UpsertCall``, which the
client settles as a create or an edit (Kartra has no upsert command, so the wire layer never
sees one). Only these two carry the follow-up actions. Every method returns a new frozen
object, so one call can be shared across a million-lead fan-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, Self, TypeAlias, cast

import attrs

from ._actions import (
    Action,
    AssignTag,
    CalendarCancel,
    CalendarSubscribe,
    CancelTransaction,
    CreateCustomField,
    CreateLead,
    Custom,
    EditLead,
    EditSubscription,
    GetSubscriptionDetails,
    GetTransactionDetails,
    GivePoints,
    ModifySubscriptionStatus,
    Recurrence,
    RefundTransaction,
    RemovePoints,
    RetrieveAccountLists,
    RetrieveAccountPages,
    RetrieveAccountSequences,
    RetrieveAccountTags,
    RetrieveCustomFields,
    RetrieveSubscriptions,
    RetrieveTransactions,
    SearchLead,
    SearchSubscription,
    SearchTransaction,
    SubscribeToList,
    SubscribeToSequence,
    UnassignTag,
    UnsubscribeFromList,
    UnsubscribeFromSequence,
)
from ._errors import ValidationError
from ._model import CustomField, check_email, check_int, check_text, check_time_zone
from ._safety import Safety

#: Lead profile fields sent as ``lead[<name>]``, besides id/email
#: (docs/kartra-api.md#leads-and-chaining).
LEAD_TEXT_FIELDS: Final = (
    "phone",
    "phone_country_code",
    "first_name",
    "middle_name",
    "last_name",
    "last_name2",
    "ip",
    "address",
    "zip",
    "city",
    "state",
    "country",
    "company",
    "lead_picture",
    "website",
    "facebook",
    "twitter",
    "linkedin",
    "sales_tax_id",
)


#: Every profile field of ``lead[...]`` (besides ``id``), in the order of Kartra's lead article.
LEAD_FIELDS: Final = ("email", *LEAD_TEXT_FIELDS, "lead_preferred_time_zone", "business_type")


def _custom_fields(value: Iterable[CustomField]) -> tuple[CustomField, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            "custom_fields", f"must be a list of CustomField, not {type(value).__name__}"
        )
    return tuple(value)


@attrs.frozen(kw_only=True)
class LeadRequest:
    """The lead a call is about: how to find it (``id`` wins over ``email``) and its fields.

    Offers only the openers; follow-up actions live on the ``LeadCall`` they return.
    """

    email: str | None = None
    id: int | None = None
    phone: str | None = None
    phone_country_code: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    last_name2: str | None = None
    ip: str | None = None
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    company: str | None = None
    lead_picture: str | None = None
    website: str | None = None
    facebook: str | None = None
    twitter: str | None = None
    linkedin: str | None = None
    lead_preferred_time_zone: str | None = None
    sales_tax_id: str | None = None
    business_type: int | None = None
    custom_fields: tuple[CustomField, ...] = attrs.field(default=(), converter=_custom_fields)

    def __attrs_post_init__(self) -> None:
        if self.email is not None:
            check_email("email", self.email)
        if self.id is not None:
            check_int("id", self.id, minimum=1)
        for name in LEAD_TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                check_text(name, value)
        if self.lead_preferred_time_zone is not None:
            check_time_zone("lead_preferred_time_zone", self.lead_preferred_time_zone)
        if self.business_type is not None:
            check_int("business_type", self.business_type, minimum=0)
        seen: set[str] = set()
        for index, field in enumerate(self.custom_fields):
            if not isinstance(field, CustomField):
                raise ValidationError(
                    f"custom_fields[{index}]", f"must be a CustomField, not {type(field).__name__}"
                )
            if field.identifier in seen:
                raise ValidationError(f"custom_fields[{index}]", f"sets {field.identifier!r} twice")
            seen.add(field.identifier)

    @property
    def key(self) -> str:
        """How Kartra will find this lead, for messages and logs: ``id 42`` or the email."""
        return f"id {self.id}" if self.id is not None else (self.email or "<no lead>")

    def _require_locator(self, opener: str) -> None:
        if self.id is None and self.email is None:
            raise ValidationError("lead", f"{opener}() needs the lead's id or email")

    def create(self) -> LeadCall:
        """``create_lead`` as ``actions[0]``: create this lead (its email is required)."""
        if self.email is None:
            raise ValidationError("email", "create() needs the lead's email")
        return LeadCall(lead=self, actions=(CreateLead(),))

    def edit(self, new_email: str | None = None) -> LeadCall:
        """``edit_lead`` as ``actions[0]``: update the sent fields; ``new_email`` renames it."""
        self._require_locator("edit")
        return LeadCall(lead=self, actions=(EditLead(new_email=new_email),))

    def search(self) -> LeadCall:
        """``search_lead`` as ``actions[0]``: act on an existing lead (243 if it does not exist)."""
        self._require_locator("search")
        return LeadCall(lead=self, actions=(SearchLead(),))

    def upsert(self, strategy: UpsertStrategy = "adaptive") -> UpsertCall:
        """Create the lead or, if its email exists, edit it; then run the chained actions.

        Kartra cannot upsert: the client sends create_lead or edit_lead and falls back to the
        other on 244/243. ``strategy``: "create-first", "edit-first" or "adaptive" (default:
        the client picks by the hit rate it observes). Only ``KartraClient`` can send it.
        """
        if self.email is None:
            raise ValidationError("email", "upsert() needs the lead's email")
        return UpsertCall(lead=self, strategy=strategy)


#: How an upsert picks its first call: create, edit, or whichever the hit rate says is cheaper.
UpsertStrategy: TypeAlias = Literal["create-first", "edit-first", "adaptive"]
UPSERT_STRATEGIES: Final[tuple[UpsertStrategy, ...]] = ("create-first", "edit-first", "adaptive")


def _actions(value: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(value)


class _FollowUps:
    """The follow-up actions shared by ``LeadCall`` and ``UpsertCall``: each appends one."""

    __slots__ = ()

    if TYPE_CHECKING:
        actions: tuple[Action, ...]

    def _then(self, action: Action) -> Self:
        # Both subclasses are frozen attrs classes with an ``actions`` tuple.
        copy: Self = attrs.evolve(cast(Any, self), actions=(*self.actions, action))
        return copy

    def assign_tag(self, tag_name: str) -> Self:
        """Put an existing tag on the lead (``assign_tag``)."""
        return self._then(AssignTag(tag_name))

    def unassign_tag(self, tag_name: str) -> Self:
        """Take a tag off the lead (``unassign_tag``)."""
        return self._then(UnassignTag(tag_name))

    def subscribe(self, list_name: str) -> Self:
        """Subscribe the lead to an existing list (``subscribe_lead_to_list``)."""
        return self._then(SubscribeToList(list_name))

    def unsubscribe(self, list_name: str) -> Self:
        """Unsubscribe the lead from a list (``unsubscribe_lead_from_list``)."""
        return self._then(UnsubscribeFromList(list_name))

    def give_points(self, points: int, expiration: int | None = None) -> Self:
        """Add points to the lead's score, expiring after ``expiration`` days if given."""
        return self._then(GivePoints(points, expiration))

    def remove_points(self, points: int) -> Self:
        """Remove points from the lead's score (``remove_points_from_lead``)."""
        return self._then(RemovePoints(points))

    def subscribe_to_sequence(self, sequence_name: str, step: str | int) -> Self:
        """Start the lead on a sequence at a step (``subscribe_lead_to_sequence_at_step``)."""
        return self._then(SubscribeToSequence(sequence_name, step))

    def unsubscribe_from_sequence(self, sequence_name: str) -> Self:
        """Take the lead off a sequence (``unsubscribe_lead_from_sequence``)."""
        return self._then(UnsubscribeFromSequence(sequence_name))

    def calendar_subscribe(
        self,
        calendar_name: str,
        class_name: str,
        starting_date: str | date | None = None,
        starting_hour: str | time | None = None,
    ) -> Self:
        """Book the lead into a class; date ``DD Mmm YYYY`` and hour ``HH:MM`` are US Eastern."""
        return self._then(
            CalendarSubscribe(calendar_name, class_name, starting_date, starting_hour)
        )

    def calendar_cancel(self, calendar_name: str, class_name: str) -> Self:
        """Cancel the lead's booking in a class (``calendar_cancel``)."""
        return self._then(CalendarCancel(calendar_name, class_name))

    def retrieve_transactions(self) -> Self:
        """Ask for the lead's transactions (``retrieve_transactions_from_lead``)."""
        return self._then(RetrieveTransactions())

    def retrieve_subscriptions(self) -> Self:
        """Ask for the lead's subscriptions (``retrieve_subscriptions_from_lead``)."""
        return self._then(RetrieveSubscriptions())

    def then(self, cmd: str, /, *, safety: Safety = Safety.NEVER, **params: object) -> Self:
        """Append a command this library does not know yet, with its parameters.

        ``safety`` says what a lost reply means for it; unknown commands are never replayed.
        """
        return self._then(Custom(cmd, params, safety, "lead"))


@attrs.frozen(kw_only=True)
class LeadCall(_FollowUps):
    """One call about one lead: an opener (create/edit/search) then follow-up actions."""

    lead: LeadRequest
    actions: tuple[Action, ...] = attrs.field(converter=_actions)

    def __attrs_post_init__(self) -> None:
        # Guards hand-built and cattrs-structured calls, which bypass the two-stage builder.
        if not isinstance(self.lead, LeadRequest):
            raise ValidationError("lead", f"must be a LeadRequest, not {type(self.lead).__name__}")
        if not self.actions or not getattr(self.actions[0], "opener", False):
            raise ValidationError(
                "actions[0]", "must be create_lead, edit_lead or search_lead (Kartra's rule)"
            )
        _check_follow_ups(self.actions[1:], first=1)
        if isinstance(self.actions[0], CreateLead) and self.lead.email is None:
            raise ValidationError("email", "create_lead needs the lead's email")
        if self.lead.id is None and self.lead.email is None:
            raise ValidationError("lead", "needs the lead's id or email")

    @property
    def opener(self) -> Action:
        """The first action: create, edit or search."""
        return self.actions[0]


@attrs.frozen(kw_only=True)
class UpsertCall(_FollowUps):
    """``LeadRequest(...).upsert()``: create the lead or edit it, then the follow-up actions.

    Not a Kartra command: ``KartraClient`` settles it as ``create_lead`` or ``edit_lead``
    (falling back to the other on 244 or 243), so ``encode`` refuses it. ``actions`` holds only
    the follow-ups.
    """

    lead: LeadRequest
    strategy: UpsertStrategy = "adaptive"
    actions: tuple[Action, ...] = attrs.field(default=(), converter=_actions)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.lead, LeadRequest):
            raise ValidationError("lead", f"must be a LeadRequest, not {type(self.lead).__name__}")
        if self.lead.email is None:
            raise ValidationError("email", "upsert() needs the lead's email")
        if self.strategy not in UPSERT_STRATEGIES:
            raise ValidationError(
                "strategy", f"must be one of {', '.join(UPSERT_STRATEGIES)}, got {self.strategy!r}"
            )
        _check_follow_ups(self.actions, first=0)

    def as_create(self) -> LeadCall:
        """The ``create_lead`` chain this upsert sends when the lead is new."""
        return LeadCall(lead=self.lead, actions=(CreateLead(), *self.actions))

    def as_edit(self) -> LeadCall:
        """The ``edit_lead`` chain this upsert sends when the lead exists."""
        return LeadCall(lead=self.lead, actions=(EditLead(), *self.actions))


def _check_follow_ups(actions: tuple[Action, ...], *, first: int) -> None:
    """Every action after the opener: a lead-scoped action, never a second opener."""
    for index, action in enumerate(actions, start=first):
        if not isinstance(action, Action):
            raise ValidationError(f"actions[{index}]", f"is not an action: {action!r}")
        if action.opener:
            raise ValidationError(f"actions[{index}]", f"{action.wire_cmd} may only be actions[0]")
        if action.action_scope != "lead":
            raise ValidationError(
                f"actions[{index}]",
                f"{action.wire_cmd} is an account-level command; send it in an AccountCall",
            )


@attrs.frozen(kw_only=True)
class AccountCall:
    """One call of account-level commands, which need no lead (inventories, billing, fields)."""

    actions: tuple[Action, ...] = attrs.field(default=(), converter=_actions)

    def __attrs_post_init__(self) -> None:
        for index, action in enumerate(self.actions):
            if not isinstance(action, Action):
                raise ValidationError(f"actions[{index}]", f"is not an action: {action!r}")
            if action.action_scope != "account":
                raise ValidationError(
                    f"actions[{index}]",
                    f"{action.wire_cmd} acts on a lead; build it from LeadRequest(...)",
                )

    def _then(self, action: Action) -> AccountCall:
        return attrs.evolve(self, actions=(*self.actions, action))

    def retrieve_account_lists(self) -> AccountCall:
        """The account's list names."""
        return self._then(RetrieveAccountLists())

    def retrieve_account_tags(self) -> AccountCall:
        """The account's tag names."""
        return self._then(RetrieveAccountTags())

    def retrieve_account_sequences(self) -> AccountCall:
        """The account's sequence names."""
        return self._then(RetrieveAccountSequences())

    def retrieve_account_pages(self) -> AccountCall:
        """The account's page names."""
        return self._then(RetrieveAccountPages())

    def retrieve_custom_fields(self) -> AccountCall:
        """The account's custom field definitions."""
        return self._then(RetrieveCustomFields())

    def create_custom_field(
        self, identifier: str, field_type: str, options: Iterable[str] = ()
    ) -> AccountCall:
        """Define a custom field; drop-downs, radio buttons and checkboxes need ≥ 2 options."""
        # A lone string is refused, not split into one option per character.
        if isinstance(options, (bytes, Mapping)) or not isinstance(options, Iterable):
            raise ValidationError(
                "custom_field_options",
                f"must be a list of option names, not {type(options).__name__}",
            )
        names = options if isinstance(options, str) else tuple(options)
        return self._then(CreateCustomField(identifier, field_type, names))

    def search_transaction(self, transaction_id: int) -> AccountCall:
        """Check that a transaction exists."""
        return self._then(SearchTransaction(transaction_id))

    def get_transaction_details(self, transaction_id: int) -> AccountCall:
        """A transaction's full record."""
        return self._then(GetTransactionDetails(transaction_id))

    def refund_transaction(
        self, transaction_id: int, refund_amount: Decimal | int | str | None = None
    ) -> AccountCall:
        """Refund a transaction, fully or by ``refund_amount``. Moves money: never replayed."""
        return self._then(RefundTransaction(transaction_id, refund_amount))

    def cancel_transaction(
        self,
        transaction_id: int | None = None,
        *,
        internal_subscription_id: int | None = None,
    ) -> AccountCall:
        """Cancel the subscription behind a transaction (by transaction or subscription id)."""
        return self._then(CancelTransaction(transaction_id, internal_subscription_id))

    def search_subscription(self, subscription_id: int) -> AccountCall:
        """Check that a subscription exists."""
        return self._then(SearchSubscription(subscription_id))

    def get_subscription_details(self, subscription_id: int) -> AccountCall:
        """A subscription's full record."""
        return self._then(GetSubscriptionDetails(subscription_id))

    def modify_subscription_status(self, subscription_id: int, modification: str) -> AccountCall:
        """Cancel, pause or unpause a subscription."""
        return self._then(ModifySubscriptionStatus(subscription_id, modification))

    def edit_subscription(
        self,
        subscription_id: int,
        *,
        product_id: int | None = None,
        price_point: int | None = None,
        next_payment_date: str | datetime | None = None,
        amount: Decimal | int | str | None = None,
        recurring_period_1: str | None = None,
        recurring_period_2: str | None = None,
        quantity: int | None = None,
        installments_left: int | str | None = None,
        tax_percent: Decimal | int | None = None,
    ) -> AccountCall:
        """Change a subscription; give at least one parameter. Never replayed."""
        recurrence = None
        if recurring_period_1 is not None:
            recurrence = Recurrence(recurring_period_1, recurring_period_2)
        elif recurring_period_2 is not None:
            raise ValidationError("recurring_period_2", "needs recurring_period_1")
        return self._then(
            EditSubscription(
                subscription_id,
                product_id,
                price_point,
                next_payment_date,
                amount,
                recurrence,
                quantity,
                installments_left,
                tax_percent,  # type: ignore[arg-type]
            )
        )

    def then(self, cmd: str, /, *, safety: Safety = Safety.NEVER, **params: object) -> AccountCall:
        """Append an account-level command this library does not know yet."""
        return self._then(Custom(cmd, params, safety, "account"))


@attrs.frozen(kw_only=True)
class GetLead:
    """``get_lead``: a lead's full profile by id (wins) or email; not an ``actions`` command."""

    email: str | None = None
    id: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.email is None and self.id is None:
            raise ValidationError("get_lead", "needs the lead's id or email")
        if self.email is not None:
            check_email("email", self.email)
        if self.id is not None:
            check_int("id", self.id, minimum=1)


#: A call as it goes on the wire: what ``encode`` accepts.
WireCall: TypeAlias = LeadCall | AccountCall | GetLead
#: Anything ``KartraClient.send`` accepts: a wire call or an upsert.
Call: TypeAlias = LeadCall | AccountCall | GetLead | UpsertCall
#: The classes of ``Call``, for run-time checks.
CALL_TYPES: Final = (LeadCall, AccountCall, GetLead, UpsertCall)


def lead_email(call: Call) -> str | None:
    """The email of the lead a call is about, for error messages (never a secret)."""
    if isinstance(call, (LeadCall, UpsertCall)):
        return call.lead.email
    if isinstance(call, GetLead):
        return call.email
    return None
