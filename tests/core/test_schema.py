"""``AccountSchema``: option names to ids, calls checked before sending, saved and loaded."""

from __future__ import annotations

import pytest

from kartra_async import (
    AccountSchema,
    Credentials,
    CustomField,
    KartraClient,
    LeadRequest,
    RawResponse,
    UsageError,
    ValidationError,
    is_sandbox_credentials,
)
from kartra_async.sandbox import Sandbox, SandboxCredentials


async def _schema() -> tuple[AccountSchema, int]:
    async with Sandbox() as sandbox, client_for(sandbox) as client:
        schema = await client.account_schema()
        again = await client.account_schema()
        assert again is schema
        return schema, sandbox.stats.calls


def client_for(sandbox: Sandbox, **kwargs: object) -> KartraClient:
    creds = sandbox.credentials
    return KartraClient(
        app_id=creds.app_id,
        api_key=creds.api_key,
        api_password=creds.api_password,
        base_url=sandbox.url,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_account_schema_is_one_call_per_inventory_and_resolves_names() -> None:
    schema, calls = await _schema()
    assert calls == 4
    assert schema.tags is not None and "VIP" in schema.tags
    colour = schema.custom_fields["colour"]
    blue = next(ident for ident, name in colour.options if name == "blue")
    interests = schema.custom_fields["interests"]
    ids = {name: ident for ident, name in interests.options}
    values = schema.values(colour="Blue", interests=["email", str(ids["video"])], company_size=12)
    assert values == (
        CustomField("colour", blue),
        CustomField("interests", (ids["email"], ids["video"])),
        CustomField("company_size", "12"),
    )


async def test_check_names_the_field_and_the_allowed_values() -> None:
    schema, _ = await _schema()
    with pytest.raises(ValidationError) as caught:
        schema.values(interests=["email", "sms"])
    assert caught.value.field == "interests[1]"
    assert "'sms'" in caught.value.reason and "'video'" in caught.value.reason
    with pytest.raises(ValidationError) as caught:
        schema.check(LeadRequest(email="a@b.co", custom_fields=[CustomField("colur", 1)]).create())
    assert caught.value.field == "custom_fields[colur]" and "colour" in caught.value.reason
    with pytest.raises(ValidationError) as caught:
        schema.check(
            LeadRequest(email="a@b.co", custom_fields=[CustomField("colour", 999)]).create()
        )
    assert "999" in caught.value.reason and "'blue'" in caught.value.reason
    for call, word in (
        (LeadRequest(email="a@b.co").create().assign_tag("VIPP"), "tag 'VIPP'"),
        (LeadRequest(email="a@b.co").create().subscribe("Nope"), "list 'Nope'"),
        (LeadRequest(email="a@b.co").create().subscribe_to_sequence("Bye", 1), "sequence 'Bye'"),
    ):
        with pytest.raises(ValidationError) as caught:
            schema.check(call)
        assert caught.value.field == "actions[1]" and word in caught.value.reason
    schema.check(
        LeadRequest(email="a@b.co", custom_fields=schema.values(colour="green"))
        .upsert()
        .assign_tag("VIP")
    )


async def test_json_round_trip_keeps_every_check() -> None:
    schema, _ = await _schema()
    loaded = AccountSchema.from_json(schema.to_json())
    assert loaded == schema
    fields_only = AccountSchema(schema.custom_fields.values())
    assert AccountSchema.from_json(fields_only.to_json()).tags is None
    with pytest.raises(UsageError, match="not an account schema"):
        AccountSchema.from_json('{"format": "other"}')


async def test_the_client_checks_every_lead_call_before_sending() -> None:
    async with Sandbox() as sandbox:
        async with client_for(sandbox) as plain:
            saved = (await plain.account_schema()).to_json()
        before = sandbox.stats.calls
        schema = AccountSchema.from_json(saved)
        async with client_for(sandbox, schema=schema) as client:
            bad = LeadRequest(email="a@b.co", custom_fields=[CustomField("colour", 999)])
            with pytest.raises(ValidationError):
                await client.send(bad.create())
            outcomes = await client.send_many([bad.create(), LeadRequest(email="c@d.co").create()])
            assert isinstance(outcomes[0].error, ValidationError)
            assert outcomes[1].ok
        assert sandbox.stats.calls == before + 1  # only the valid create was sent
        async with client_for(sandbox, check_schema=True) as lazy:
            with pytest.raises(ValidationError, match="tag 'Nope'"):
                await lazy.send(LeadRequest(email="a@b.co").edit().assign_tag("Nope"))
            custom = await lazy.custom_field_schema()
            assert custom.tags is not None  # served from the cached account schema


class _Recording:
    url = "https://app.kartra.com/api"

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def post(self, body: bytes) -> RawResponse:
        self.bodies.append(body)
        return RawResponse(200, b'{"status": "Success"}')

    async def aclose(self) -> None:
        return None


def test_sandbox_credentials_are_refused_off_loopback_before_any_byte() -> None:
    creds = SandboxCredentials.generate()
    transport = _Recording()
    assert is_sandbox_credentials(Credentials(**creds.as_dict()))
    assert not is_sandbox_credentials(Credentials("app", "key", "pw"))
    for kwargs in ({"base_url": "https://app.kartra.com/api"}, {"transport": transport}):
        with pytest.raises(UsageError, match="generated by a kartra-async sandbox"):
            KartraClient(**creds.as_dict(), **kwargs)  # type: ignore[arg-type]
    assert transport.bodies == []
    KartraClient(**creds.as_dict(), base_url="http://127.0.0.1:9/api")
