"""The fixed scenario set: each scenario is a few raw requests, built from a run's context.

Pure: nothing here sends anything. Requests are plain nested forms (the credentials are added
by the runner), so a scenario can send what the typed builder refuses on purpose (an unknown
cmd, malformed custom fields, a wrong password).

Every lead a scenario creates is under the run's own domain and carries the run's tag, so on a
real App the leads of a conformance run are easy to find and to delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from .._model import test_mode_email

#: A request without its credentials.
Form = dict[str, Any]

#: The parent domain of every run's leads: ``example.com`` is reserved, so mail never lands.
DOMAIN_SUFFIX: Final = "kartra-async-conformance.example.com"
#: The tag every created lead gets, unless ``--tag`` names another existing one.
DEFAULT_TAG: Final = "kartra-async-conformance"


@attrs.frozen
class Inventory:
    """The account's names the scenarios use; ``None`` skips the scenarios that need it."""

    tag: str = DEFAULT_TAG
    list: str | None = None
    sequence: tuple[str, str] | None = None
    calendar: tuple[str, str] | None = None


@attrs.frozen
class Context:
    """One run: its id (in every address), the inventory, and whether the App is in Test Mode."""

    run_id: str
    inventory: Inventory = attrs.field(factory=Inventory)
    test_mode: bool = False
    scenario: str = ""

    @property
    def domain(self) -> str:
        """This run's email domain, e.g. ``run-1a2b3c4d.kartra-async-conformance.example.com``."""
        return f"run-{self.run_id}.{DOMAIN_SUFFIX}"

    def email(self, key: str = "a") -> str:
        """The address of this scenario's lead ``key`` (as created)."""
        # The run id is in the local part too: Test Mode keeps only the local part, and two
        # runs must not collide there.
        return f"ka-{self.run_id}-{self.scenario}-{key}@{self.domain}"

    def lookup(self, key: str = "a") -> str:
        """The address to look lead ``key`` up by: the stored one when the App is in Test Mode."""
        address = self.email(key)
        return test_mode_email(address) if self.test_mode else address

    @property
    def missing_name(self) -> str:
        """A tag, list or sequence name no account has."""
        return f"kartra-async-conformance-missing-{self.run_id}"


@attrs.frozen
class Step:
    """One request of a scenario. ``wrong_password`` sends a wrong ``api_password``."""

    name: str
    build: Callable[[Context], Form]
    wrong_password: bool = False


@attrs.frozen
class Scenario:
    """A named sequence of requests, whose answers are compared step by step.

    ``needs``: the inventory entries it uses (``list``, ``sequence``, ``calendar``).
    ``burst``: the 429 scenario, run only when asked (it sends calls as fast as it can).
    """

    name: str
    summary: str
    steps: tuple[Step, ...]
    needs: tuple[str, ...] = ()
    burst: bool = False

    def missing(self, inventory: Inventory) -> tuple[str, ...]:
        """The inventory entries this scenario needs and ``inventory`` lacks."""
        return tuple(need for need in self.needs if getattr(inventory, need) is None)


def _lead(address: str, actions: list[dict[str, Any]], **fields: Any) -> Form:
    return {"lead": {"email": address, **fields}, "actions": actions}


def _create(key: str = "a") -> Step:
    return Step(
        f"create {key}",
        lambda ctx: _lead(
            ctx.email(key),
            [{"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": ctx.inventory.tag}],
        ),
    )


def _on_lead(name: str, *actions: Callable[[Context], dict[str, Any]], key: str = "a") -> Step:
    """``search_lead`` then ``actions`` for an existing lead."""
    return Step(
        name,
        lambda ctx: _lead(
            ctx.lookup(key), [{"cmd": "search_lead"}, *(action(ctx) for action in actions)]
        ),
    )


def _tag(cmd: str) -> Callable[[Context], dict[str, Any]]:
    return lambda ctx: {"cmd": cmd, "tag_name": ctx.inventory.tag}


def _list(cmd: str) -> Callable[[Context], dict[str, Any]]:
    return lambda ctx: {"cmd": cmd, "list_name": ctx.inventory.list}


def _sequence_subscribe(ctx: Context) -> dict[str, Any]:
    assert ctx.inventory.sequence is not None
    name, step = ctx.inventory.sequence
    return {"cmd": "subscribe_lead_to_sequence_at_step", "sequence_name": name, "step": step}


def _sequence_unsubscribe(ctx: Context) -> dict[str, Any]:
    assert ctx.inventory.sequence is not None
    return {"cmd": "unsubscribe_lead_from_sequence", "sequence_name": ctx.inventory.sequence[0]}


def _calendar(cmd: str) -> Callable[[Context], dict[str, Any]]:
    def build(ctx: Context) -> dict[str, Any]:
        assert ctx.inventory.calendar is not None
        name, klass = ctx.inventory.calendar
        return {"cmd": cmd, "calendar_name": name, "class_name": klass}

    return build


def _points(cmd: str, points: int) -> Callable[[Context], dict[str, Any]]:
    return lambda _ctx: {"cmd": cmd, "points": str(points)}


def _get_lead(key: str = "a", *, stored: bool = True) -> Step:
    def build(ctx: Context) -> Form:
        address = ctx.lookup(key) if stored else ctx.email(key)
        return {"get_lead": {"email": address}}

    return Step("get_lead" if stored else "get_lead by the address as created", build)


def _test_mode_probe(ctx: Context) -> Form:
    return {"get_lead": {"email": test_mode_email(ctx.email())}}


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        "test_mode",
        "Test Mode detection: create a lead, get it by its address, then by @kartra.com",
        (
            _create(),
            _get_lead(stored=False),
            Step("get_lead by the @kartra.com address", _test_mode_probe),
        ),
    ),
    Scenario("create_lead", "create_lead (+ the run's tag)", (_create(),)),
    Scenario("search_lead", "search_lead of a fresh lead", (_create(), _on_lead("search_lead"))),
    Scenario(
        "edit_lead",
        "edit_lead of a fresh lead",
        (
            _create(),
            Step(
                "edit_lead",
                lambda ctx: _lead(ctx.lookup(), [{"cmd": "edit_lead"}], first_name="Conformance"),
            ),
        ),
    ),
    Scenario(
        "tags",
        "unassign_tag then assign_tag",
        (
            _create(),
            _on_lead("unassign_tag", _tag("unassign_tag")),
            _on_lead("assign_tag", _tag("assign_tag")),
        ),
    ),
    Scenario(
        "points",
        "give_points_to_lead then remove_points_from_lead",
        (
            _create(),
            _on_lead("give_points_to_lead", _points("give_points_to_lead", 5)),
            _on_lead("remove_points_from_lead", _points("remove_points_from_lead", 2)),
        ),
    ),
    Scenario(
        "lists",
        "subscribe_lead_to_list then unsubscribe_lead_from_list",
        (
            _create(),
            _on_lead("subscribe_lead_to_list", _list("subscribe_lead_to_list")),
            _on_lead("unsubscribe_lead_from_list", _list("unsubscribe_lead_from_list")),
        ),
        needs=("list",),
    ),
    Scenario(
        "sequences",
        "subscribe_lead_to_sequence_at_step then unsubscribe_lead_from_sequence",
        (
            _create(),
            _on_lead("subscribe_lead_to_sequence_at_step", _sequence_subscribe),
            _on_lead("unsubscribe_lead_from_sequence", _sequence_unsubscribe),
        ),
        needs=("sequence",),
    ),
    Scenario(
        "calendars",
        "calendar_subscribe (no date) then calendar_cancel",
        (
            _create(),
            _on_lead("calendar_subscribe", _calendar("calendar_subscribe")),
            _on_lead("calendar_cancel", _calendar("calendar_cancel")),
        ),
        needs=("calendar",),
    ),
    Scenario("get_lead", "get_lead of a fresh lead", (_create(), _get_lead())),
    Scenario(
        "error_233",
        "233: a wrong api_password",
        (
            Step(
                "search_lead with a wrong password",
                lambda ctx: _lead(ctx.lookup(), [{"cmd": "search_lead"}]),
                wrong_password=True,
            ),
        ),
    ),
    Scenario(
        "error_243",
        "243: search_lead of an address no lead has",
        (Step("search_lead", lambda ctx: _lead(ctx.lookup(), [{"cmd": "search_lead"}])),),
    ),
    Scenario("error_244", "244: create_lead of an existing address", (_create(), _create())),
    Scenario(
        "error_212",
        "212: assign_tag of a tag the account lacks",
        (
            _create(),
            _on_lead(
                "assign_tag (missing)",
                lambda ctx: {"cmd": "assign_tag", "tag_name": ctx.missing_name},
            ),
        ),
    ),
    Scenario(
        "error_231",
        "231: subscribe_lead_to_list of a list the account lacks",
        (
            _create(),
            _on_lead(
                "subscribe_lead_to_list (missing)",
                lambda ctx: {"cmd": "subscribe_lead_to_list", "list_name": ctx.missing_name},
            ),
        ),
    ),
    Scenario(
        "error_219",
        "219: subscribe_lead_to_sequence_at_step of a sequence the account lacks",
        (
            _create(),
            _on_lead(
                "subscribe_lead_to_sequence_at_step (missing)",
                lambda ctx: {
                    "cmd": "subscribe_lead_to_sequence_at_step",
                    "sequence_name": ctx.missing_name,
                    "step": "1",
                },
            ),
        ),
    ),
    Scenario(
        "error_271",
        "271: create_lead with malformed custom_fields",
        (
            Step(
                "create_lead (bad custom_fields)",
                lambda ctx: _lead(
                    ctx.email(),
                    [{"cmd": "create_lead"}, {"cmd": "assign_tag", "tag_name": ctx.inventory.tag}],
                    custom_fields=["not-an-array"],
                ),
            ),
        ),
    ),
    Scenario(
        "error_262",
        "262: a cmd no App may run",
        (
            Step(
                "unknown cmd",
                lambda ctx: {"actions": [{"cmd": "kartra_async_conformance_unknown"}]},
            ),
        ),
    ),
    Scenario(
        "chain_midway",
        "a chain whose third action fails: what ran, what the reply holds",
        (
            Step(
                "create + tag + missing tag + points",
                lambda ctx: _lead(
                    ctx.email(),
                    [
                        {"cmd": "create_lead"},
                        {"cmd": "assign_tag", "tag_name": ctx.inventory.tag},
                        {"cmd": "assign_tag", "tag_name": ctx.missing_name},
                        {"cmd": "give_points_to_lead", "points": "1"},
                    ],
                ),
            ),
            _get_lead(),
        ),
    ),
    Scenario(
        "burst_429",
        "429 at a short burst: calls sent at once until one is refused",
        (
            Step(
                "get_lead of a missing address",
                lambda ctx: {"get_lead": {"email": ctx.lookup("burst")}},
            ),
        ),
        burst=True,
    ),
)
