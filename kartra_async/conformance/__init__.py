"""Hold the sandbox against any Kartra endpoint: ``kartra-async conformance``.

A fixed set of scenarios (each lead command's success, the common errors 233, 243, 244, 212,
231, 219, 271 and 262, a chain failing midway, ``get_lead`` of a fresh lead, Test Mode
detection, and opt-in a 429 at a short burst) is sent to the endpoint and to an in-process
sandbox; each answer is reduced to its shape (HTTP status, content type, ``status``, ``type``,
``message``, each action's result, where each piece of data sits) and the two are compared.

Against a real App the check only creates leads under its run's own domain
(``run-<id>.kartra-async-conformance.example.com``) tagged with one existing tag, and reports
them. ``Options.record`` saves every endpoint reply, credentials removed, as golden files.
"""

from __future__ import annotations

from ._compare import Answer, Difference, Shape, compare, shape_of
from ._runner import ConformanceError, Options, Report, ScenarioResult, run_conformance
from ._scenarios import DEFAULT_TAG, SCENARIOS, Context, Inventory, Scenario, Step

__all__ = [
    "DEFAULT_TAG",
    "SCENARIOS",
    "Answer",
    "ConformanceError",
    "Context",
    "Difference",
    "Inventory",
    "Options",
    "Report",
    "Scenario",
    "ScenarioResult",
    "Shape",
    "Step",
    "compare",
    "run_conformance",
    "shape_of",
]
