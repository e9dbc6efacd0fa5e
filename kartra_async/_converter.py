"""The private cattrs converter that turns builder objects into Kartra's nested request array.

The model classes know nothing of the wire: this module alone decides that an action becomes
``{"cmd": ..., <params>}``, that ``None`` parameters are left out, that custom fields become
``{field_identifier, field_value}`` pairs and options ``{option_name}`` maps. The nested result
is flattened PHP-style by ``_form``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn

from ._actions import Action, CreateCustomField, Custom, EditLead, Recurrence
from ._builder import LeadRequest
from ._model import CustomField

_converter = cattrs.Converter()
# Fixed-point, never an exponent: str(Decimal("1E+2")) is "1E+2", not an amount Kartra documents.
_converter.register_unstructure_hook(Decimal, lambda amount: format(amount, "f"))


def _custom_field(field: CustomField) -> dict[str, Any]:
    value = field.value
    return {
        "field_identifier": field.identifier,
        "field_value": list(value) if isinstance(value, tuple) else value,
    }


_converter.register_unstructure_hook(CustomField, _custom_field)

_lead_fields = make_dict_unstructure_fn(
    LeadRequest,
    _converter,
    _cattrs_omit_if_default=True,
    custom_fields=cattrs.gen.override(omit=True),
)


def _lead(lead: LeadRequest) -> dict[str, Any]:
    data: dict[str, Any] = _lead_fields(lead)
    if lead.custom_fields:
        data["custom_fields"] = [_custom_field(field) for field in lead.custom_fields]
    return data


_converter.register_unstructure_hook(LeadRequest, _lead)
_converter.register_unstructure_hook(
    Recurrence, make_dict_unstructure_fn(Recurrence, _converter, _cattrs_omit_if_default=True)
)


def _action_hook(cls: type[Action]) -> Callable[[Action], dict[str, Any]]:
    if cls is Custom:
        return lambda action: {"cmd": action.wire_cmd, **action.params}  # type: ignore[attr-defined]
    if cls is EditLead:
        # new_email travels in lead[new_email], not in the action
        # (docs/kartra-api.md#leads-and-chaining).
        return lambda action: {"cmd": "edit_lead"}
    params = make_dict_unstructure_fn(cls, _converter, _cattrs_omit_if_default=True)
    if cls is CreateCustomField:

        def custom_field(action: Action) -> dict[str, Any]:
            data: dict[str, Any] = {"cmd": action.cmd, **params(action)}
            data["custom_field_options"] = [
                {"option_name": name}
                for name in action.custom_field_options  # type: ignore[attr-defined]
            ]
            return data

        return custom_field
    if not attrs.fields(cast(Any, cls)):
        fixed = {"cmd": cls.cmd}
        return lambda action: dict(fixed)
    cmd = cls.cmd
    return lambda action: {"cmd": cmd, **params(action)}


_converter.register_unstructure_hook_factory(
    lambda cls: isinstance(cls, type) and issubclass(cls, Action), _action_hook
)


def unstructure_lead(lead: LeadRequest, new_email: str | None = None) -> dict[str, Any]:
    """``lead[...]``: the lead's locator and fields, plus ``new_email`` for edit_lead."""
    data = _lead(lead)
    if new_email is not None:
        data["new_email"] = new_email
    return data


def unstructure_action(action: Action) -> dict[str, Any]:
    """``actions[i][...]``: the action's ``cmd`` first, then its non-empty parameters."""
    result: dict[str, Any] = _converter.unstructure(action, unstructure_as=type(action))
    return result
