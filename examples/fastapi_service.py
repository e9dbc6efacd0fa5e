"""A FastAPI service that pushes leads to Kartra and receives Kartra's webhooks.

- One ``KartraClient`` for the whole process, opened and closed by the app's lifespan (its
  connection pool and its pacer are shared by every request: 20 calls/s is per App, not per
  request).
- ``POST /leads`` upserts a lead (create or update by email) with optional tags; bad input is a
  422 before any call is spent, Kartra's refusals a 422, an unreachable Kartra a 503, and a
  write whose outcome is unknown a 502.
- Kartra's outbound events and IPNs arrive at the mounted ``asgi_app`` receiver.

Run it (``pip install kartra-async fastapi uvicorn``)::

    export KARTRA_APP_ID=... KARTRA_API_KEY=... KARTRA_API_PASSWORD=...
    export KARTRA_IPN_SECRET=...                       # if you receive IPNs
    export KARTRA_WEBHOOK_PATH=/kartra/9f2c7d-events   # hard to guess: events are unsigned
    uvicorn examples.fastapi_service:app

Against the sandbox instead: ``kartra-async sandbox`` prints the ``KARTRA_*`` variables to export.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from kartra_async import (
    APIError,
    KartraClient,
    LeadRequest,
    OutcomeUnknown,
    TransportError,
    ValidationError,
)
from kartra_async.events import KartraEvent, asgi_app, describe

log = logging.getLogger("fastapi_service")

DEFAULT_WEBHOOK_PATH = "/kartra/events"


class LeadIn(BaseModel):
    """The body of ``POST /leads``."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    tags: list[str] = Field(default_factory=list)


class LeadOut(BaseModel):
    """The answer: the lead's Kartra id."""

    lead_id: int | None


def create_app(client_factory: Callable[[], KartraClient] = KartraClient.from_env) -> FastAPI:
    """Build the app; ``client_factory`` makes the one client (default: from the environment)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with client_factory() as client:
            app.state.kartra = client
            yield

    app = FastAPI(title="leads", lifespan=lifespan)
    #: The latest received events (a real service would enqueue them for a worker).
    app.state.events = deque(maxlen=1000)

    @app.post("/leads")
    async def upsert_lead(lead: LeadIn, request: Request) -> LeadOut:
        client: KartraClient = request.app.state.kartra
        try:
            call = LeadRequest(
                email=lead.email, first_name=lead.first_name, last_name=lead.last_name
            ).upsert()
            for tag in lead.tags:
                call = call.assign_tag(tag)
        except ValidationError as error:
            raise HTTPException(422, detail=str(error)) from error
        try:
            reply = await client.send(call)
        except OutcomeUnknown as error:
            # The lead exists but some never-replayed action may or may not have landed.
            log.error("unknown outcome: %s", error)
            raise HTTPException(502, detail="Kartra's outcome is unknown; not retried") from error
        except TransportError as error:
            raise HTTPException(503, detail="Kartra is unreachable; try again later") from error
        except APIError as error:
            raise HTTPException(422, detail=f"Kartra refused: {error.message}") from error
        return LeadOut(lead_id=reply.lead_id)

    def on_event(event: KartraEvent) -> None:
        # Keep this quick: Kartra waits for the reply. Hand real work to a queue.
        log.info("received %s", describe(event))
        app.state.events.append(event)

    path = os.environ.get("KARTRA_WEBHOOK_PATH", DEFAULT_WEBHOOK_PATH)
    app.mount(path, asgi_app(on_event, ipn_secret=os.environ.get("KARTRA_IPN_SECRET") or None))
    return app


#: For ``uvicorn examples.fastapi_service:app``; the client is only built when the app starts.
app = create_app()
