"""Fault rules as text and JSON: ``KIND:RATE[:cmd[,cmd...]]`` on the command line, and the
admin API's ``FaultRuleJSON``. Bad input raises ``ValueError`` naming the field and the reason."""

from __future__ import annotations

import math
from typing import Any, TypedDict

from ._faults import FaultKind, FaultRule


class FaultRuleJSON(TypedDict):
    """One fault rule in the admin API (``GET``/``PUT /_sandbox/faults``)."""

    kind: str
    probability: float
    cmds: list[str] | None
    count: int | None
    delay: float | list[float]
    after_commit: bool


_KINDS = ", ".join(kind.value for kind in FaultKind)


def fault_kind(value: str, where: str = "kind") -> FaultKind:
    """The ``FaultKind`` named ``value`` (its lower-case value, e.g. ``http_500``)."""
    try:
        return FaultKind(value.strip().lower())
    except ValueError:
        raise ValueError(f"{where}: unknown fault kind {value!r} (one of: {_KINDS})") from None


def _probability(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: a number between 0 and 1, got {value!r}")
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"{where}: a number between 0 and 1, got {value!r}") from None
    if not 0.0 <= rate <= 1.0 or math.isnan(rate):
        raise ValueError(f"{where}: a number between 0 and 1, got {value!r}")
    return rate


def parse_fault_spec(spec: str) -> FaultRule:
    """``KIND:RATE[:cmd[,cmd...]]``, e.g. ``http_500:0.1:create_lead``, as a ``FaultRule``."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ValueError(f"{spec!r}: expected KIND:RATE[:cmd[,cmd...]], e.g. http_500:0.1")
    kind = fault_kind(parts[0], f"{spec!r}: kind")
    rate = _probability(parts[1], f"{spec!r}: rate")
    cmds = None
    if len(parts) == 3:
        cmds = [cmd.strip() for cmd in parts[2].split(",") if cmd.strip()]
        if not cmds:
            raise ValueError(f"{spec!r}: cmd: empty (leave it out to hit every call)")
    return FaultRule(kind, probability=rate, cmds=cmds)


def rule_to_json(rule: FaultRule) -> FaultRuleJSON:
    """A rule as the admin API shows it."""
    delay: float | list[float] = (
        [float(rule.delay[0]), float(rule.delay[1])]
        if isinstance(rule.delay, tuple)
        else float(rule.delay)
    )
    return {
        "kind": rule.kind.value,
        "probability": rule.probability,
        "cmds": sorted(rule.cmds) if rule.cmds is not None else None,
        "count": rule.count,
        "delay": delay,
        "after_commit": rule.after_commit,
    }


def rule_from_json(data: object, where: str = "rule") -> FaultRule:
    """A rule from the admin API's JSON; only ``kind`` is required."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: an object like {{'kind': 'http_500', 'probability': 0.1}}")
    unknown = sorted(set(data) - set(FaultRuleJSON.__annotations__))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kind_value = data.get("kind")
    if not isinstance(kind_value, str):
        raise ValueError(f"{where}.kind: required, a fault kind name (one of: {_KINDS})")
    kind = fault_kind(kind_value, f"{where}.kind")
    probability = _probability(data.get("probability", 1.0), f"{where}.probability")
    cmds = data.get("cmds")
    if cmds is not None and (
        not isinstance(cmds, list) or not all(isinstance(cmd, str) and cmd for cmd in cmds)
    ):
        raise ValueError(f"{where}.cmds: null or a list of cmd names")
    count = data.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise ValueError(f"{where}.count: null or a whole number >= 0")
    return FaultRule(
        kind,
        probability=probability,
        cmds=cmds,
        count=count,
        delay=_delay(data.get("delay", 0.0), f"{where}.delay"),
        after_commit=_flag(data.get("after_commit", False), f"{where}.after_commit"),
    )


def _delay(value: Any, where: str) -> float | tuple[float, float]:
    def seconds(item: Any) -> float:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or item < 0:
            raise ValueError(f"{where}: seconds >= 0, or a [low, high] pair of them")
        return float(item)

    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(f"{where}: seconds >= 0, or a [low, high] pair of them")
        low, high = seconds(value[0]), seconds(value[1])
        if low > high:
            raise ValueError(f"{where}: low {low} is above high {high}")
        return (low, high)
    return seconds(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: true or false")
    return value
