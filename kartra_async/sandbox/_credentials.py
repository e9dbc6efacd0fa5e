"""The three secrets a sandbox accepts. They never appear in a repr, a log line or the export."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

import attrs

from .._model import SANDBOX_CREDENTIAL_PREFIX

#: Environment variables read by ``SandboxCredentials.from_env`` (and by ``KartraClient.from_env``).
ENV_NAMES: tuple[str, str, str] = ("KARTRA_APP_ID", "KARTRA_API_KEY", "KARTRA_API_PASSWORD")


@attrs.frozen(repr=False)
class SandboxCredentials:
    """``app_id``, ``api_key`` and ``api_password`` the sandbox accepts (all three secret)."""

    app_id: str
    api_key: str
    api_password: str

    def __repr__(self) -> str:
        return "SandboxCredentials(app_id=***, api_key=***, api_password=***)"

    @classmethod
    def generate(cls) -> SandboxCredentials:
        """Fresh random credentials, different on every run.

        Each starts with ``sandbox-`` (``SANDBOX_CREDENTIAL_PREFIX``): ``KartraClient`` refuses
        to send such credentials to any host but a loopback one, so a sandbox's credentials file
        can never be posted to the real Kartra.
        """
        return cls(
            app_id=SANDBOX_CREDENTIAL_PREFIX + "app-" + secrets.token_hex(6),
            api_key=SANDBOX_CREDENTIAL_PREFIX + "key-" + secrets.token_hex(12),
            api_password=SANDBOX_CREDENTIAL_PREFIX + "pw-" + secrets.token_hex(12),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxCredentials | None:
        """Credentials from the ``KARTRA_*`` variables of ``ENV_NAMES``, if all three are set."""
        env = os.environ if environ is None else environ
        values = [env.get(name, "") for name in ENV_NAMES]
        if not all(values):
            return None
        return cls(*values)

    def as_dict(self) -> dict[str, str]:
        """The three values keyed as Kartra's form fields (and ``KartraClient``'s arguments)."""
        return {"app_id": self.app_id, "api_key": self.api_key, "api_password": self.api_password}

    def as_env(self) -> dict[str, str]:
        """The three values keyed by their environment variable names."""
        return dict(zip(ENV_NAMES, (self.app_id, self.api_key, self.api_password), strict=True))
