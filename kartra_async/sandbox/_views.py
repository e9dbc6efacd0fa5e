"""How the sandbox renders a lead: the ``get_lead`` profile and the outbound-event lead object."""

from __future__ import annotations

from typing import Any

from ._state import CHOICE_TYPES, Lead, SandboxAccount, eastern

# Outbound event lead object keys, in the order of Kartra's event pages
# (docs/kartra-api.md#webhooks).
_OUTBOUND_KEYS: tuple[str, ...] = (
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "last_name2",
    "email",
    "phone_country_code",
    "phone",
    "company",
    "address",
    "city",
    "zip",
    "state",
    "country",
    "date_joined",
    "website",
    "ip",
    "ip_country",
    "facebook",
    "twitter",
    "linkedin",
    "sales_tax_id",
    "lead_picture",
    "source",
    "score",
    "lead_deleted",
    "lead_deleted_date",
    "referring_id",
    "blacklisted",
    "source_id",
    "gdpr_lead_status",
    "gdpr_lead_status_date",
    "gdpr_lead_status_ip",
    "gdpr_lead_communications",
    "lead_preferred_time_zone",
)


def custom_field_values(account: SandboxAccount, lead: Lead) -> list[dict[str, Any]]:
    """Every account custom field with this lead's value, in ``get_lead``'s shape.

    See docs/kartra-api.md#get_lead.
    """
    values = lead.custom or {}
    rendered: list[dict[str, Any]] = []
    for field in account.custom_fields.values():
        value = values.get(field.id)
        shown: Any
        if field.type in CHOICE_TYPES:
            chosen = value if isinstance(value, tuple) else ()
            shown = [
                {"option_id": option, "option_value": field.options.get(option, "")}
                for option in chosen
            ]
        else:
            shown = value if isinstance(value, str) else ""
        rendered.append(
            {
                "field_id": field.id,
                "field_identifier": field.identifier,
                "field_type": field.type,
                "field_value": shown,
            }
        )
    return rendered


def _base_profile(account: SandboxAccount, lead: Lead, now: float) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": str(lead.id)}
    for name in (
        "first_name",
        "middle_name",
        "last_name",
        "last_name2",
        "email",
    ):
        profile[name] = lead.field(name)
    profile["date_joined"] = eastern(lead.joined)
    for name in (
        "phone_country_code",
        "phone",
        "ip",
        "address",
        "zip",
        "city",
        "state",
        "country",
        "company",
        "lead_picture",
    ):
        profile[name] = lead.field(name)
    profile["score"] = lead.current_score(now)
    profile["source"] = "api"
    profile["source_id"] = "0"
    profile["ip_country"] = ""
    for name in ("website", "facebook", "twitter", "linkedin", "lead_preferred_time_zone"):
        profile[name] = lead.field(name)
    profile["notes"] = ""
    profile["blacklisted"] = 0
    profile["sales_tax_id"] = lead.field("sales_tax_id")
    profile["business_type"] = lead.field("business_type")
    profile["referring_id"] = "0"
    # API-created leads never have GDPR terms accepted
    # (docs/kartra-api.md#test-mode-and-permissions).
    profile["gdpr_lead_status"] = account.settings.gdpr_lead_status
    profile["gdpr_lead_status_date"] = ""
    profile["gdpr_lead_status_ip"] = ""
    profile["gdpr_lead_communications"] = 0
    profile["lead_deleted"] = 1 if lead.deleted is not None else 0
    profile["lead_deleted_date"] = eastern(lead.deleted) if lead.deleted is not None else ""
    return profile


def lead_profile(account: SandboxAccount, lead: Lead, now: float) -> dict[str, Any]:
    """The ``lead_details`` object of a ``get_lead`` reply."""
    profile = _base_profile(account, lead, now)
    profile["custom_fields"] = custom_field_values(account, lead)
    profile["tags"] = [{"tag_name": account.tag_name(tag)} for tag in lead.tags or ()]
    profile["lists"] = [
        {"list_name": account.list_name(list_id), "active": active}
        for list_id, active in (lead.lists or {}).items()
    ]
    profile["sequences"] = [
        {
            "sequence_name": account.sequence_by_id(seq_id).name,
            "step": step,
            "status": status,
        }
        for seq_id, (step, status) in (lead.sequences or {}).items()
    ]
    profile["memberships"] = [dict(item) for item in lead.memberships or ()]
    return profile


def outbound_lead(account: SandboxAccount, lead: Lead, now: float) -> dict[str, Any]:
    """The ``lead`` object of an outbound event: every value a string, as in Kartra's samples."""
    profile = _base_profile(account, lead, now)
    outbound: dict[str, Any] = {key: str(profile.get(key, "")) for key in _OUTBOUND_KEYS}
    outbound["custom_fields"] = [
        {
            "field_id": str(item["field_id"]),
            "field_identifier": item["field_identifier"],
            "field_type": item["field_type"],
            "field_value": (
                [
                    {"option_id": str(opt["option_id"]), "option_value": opt["option_value"]}
                    for opt in item["field_value"]
                ]
                if isinstance(item["field_value"], list)
                else item["field_value"]
            ),
        }
        for item in custom_field_values(account, lead)
    ]
    return outbound
