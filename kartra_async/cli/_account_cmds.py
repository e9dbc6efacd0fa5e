"""``kartra-async get EMAIL`` and ``kartra-async inventory``: look at an account."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table

from .._builder import AccountCall, GetLead
from .._errors import KartraError, LeadNotFound, UsageError
from ..records import CustomFieldDefinition, LeadProfile
from ._common import EXIT_OK, EXIT_ROWS_FAILED, CannotRun, Target, connect, describe_error
from ._common import target_options as _target_options
from ._main import main


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if attrs.has(type(value)):
        return attrs.asdict(value)  # type: ignore[arg-type]
    return str(value)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


@main.command("get")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print Kartra's lead_details as JSON.")
@_target_options
def get(
    email: str,
    as_json: bool,
    sandbox: bool,
    sandbox_rate_limit: int,
    credentials_file: Path | None,
    base_url: str | None,
    test_mode: bool | None,
) -> None:
    """Show the lead with this EMAIL: profile, tags, lists, sequences, custom fields.

    Exit status: 0 found; 1 no such lead; 2 could not run; 3 no credentials.
    """
    try:
        call = GetLead(email=email)
    except UsageError as exc:
        raise CannotRun(str(exc)) from None
    target = Target(sandbox, sandbox_rate_limit, credentials_file, base_url, test_mode=test_mode)

    async def fetch() -> tuple[Mapping[str, Any], LeadProfile] | None:
        async with connect(target) as conn:
            try:
                reply = await conn.client.send(call)
                return reply.raw.get("lead_details") or {}, reply.lead
            except LeadNotFound:
                return None
            except KartraError as exc:
                raise CannotRun(describe_error(exc)) from None

    found = asyncio.run(fetch())
    if found is None:
        click.echo(f"no lead with the email {email}", err=True)
        sys.exit(EXIT_ROWS_FAILED)
    raw, profile = found
    if as_json:
        _echo_json(raw)
    else:
        _print_profile(profile)
    sys.exit(EXIT_OK)


def _print_profile(profile: LeadProfile) -> None:
    table = Table(title=f"lead {profile.id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    skip = {"custom_fields", "tags", "lists", "sequences", "memberships", "extra"}
    for field in attrs.fields(LeadProfile):
        value = getattr(profile, field.name)
        if field.name not in skip and value not in (None, ""):
            table.add_row(field.name, str(value))
    for tag in profile.tags:
        table.add_row("tag", _named(tag))
    for subscription in profile.lists:
        table.add_row("list", _named(subscription))
    for sequence in profile.sequences:
        table.add_row("sequence", _named(sequence))
    for value in profile.custom_fields:
        shown = value.value
        if isinstance(shown, tuple):
            shown = ", ".join(str(option.value or option.option_id) for option in shown)
        if shown not in ("", None):
            table.add_row(f"cf:{value.identifier}", str(shown))
    Console().print(table)


def _named(item: Any) -> str:
    parts = [
        f"{field.name}={getattr(item, field.name)}"
        for field in attrs.fields(type(item))
        if field.name != "extra" and getattr(item, field.name) not in (None, "")
    ]
    return ", ".join(parts)


@main.command("inventory")
@click.option("--json", "as_json", is_flag=True, help="Print the inventory as JSON.")
@_target_options
def inventory(
    as_json: bool,
    sandbox: bool,
    sandbox_rate_limit: int,
    credentials_file: Path | None,
    base_url: str | None,
    test_mode: bool | None,
) -> None:
    """List the account's tags, lists, sequences and custom fields (one call).

    Exit status: 0 done; 2 could not run; 3 no credentials.
    """
    target = Target(sandbox, sandbox_rate_limit, credentials_file, base_url, test_mode=test_mode)
    call = (
        AccountCall()
        .retrieve_account_tags()
        .retrieve_account_lists()
        .retrieve_account_sequences()
        .retrieve_custom_fields()
    )

    async def fetch() -> Any:
        async with connect(target) as conn:
            try:
                return await conn.client.send(call)
            except KartraError as exc:
                raise CannotRun(describe_error(exc)) from None

    reply = asyncio.run(fetch())
    tags, lists = reply.account_tags, reply.account_lists
    sequences, fields = reply.account_sequences, reply.custom_fields
    if as_json:
        _echo_json(
            {
                "tags": list(tags),
                "lists": list(lists),
                "sequences": list(sequences),
                "custom_fields": [_field_json(field) for field in fields],
            }
        )
        sys.exit(EXIT_OK)
    console = Console()
    for title, names in (("tags", tags), ("lists", lists), ("sequences", sequences)):
        table = Table(title=title, show_header=False)
        table.add_column(title)
        for name in names:
            table.add_row(name)
        console.print(table)
    table = Table(title="custom fields (import columns: cf:<identifier>)")
    table.add_column("identifier")
    table.add_column("type")
    table.add_column("options (id: name)")
    for field in fields:
        options = ", ".join(f"{o.option_id}: {o.value}" for o in field.options)
        table.add_row(field.identifier, str(getattr(field.type, "value", field.type)), options)
    console.print(table)
    sys.exit(EXIT_OK)


def _field_json(field: CustomFieldDefinition) -> dict[str, Any]:
    return {
        "identifier": field.identifier,
        "type": getattr(field.type, "value", field.type),
        "options": [{"id": o.option_id, "name": o.value} for o in field.options],
    }
