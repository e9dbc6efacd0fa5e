"""What every case shares: the calls it sends, medians, targets, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from kartra_async import CustomField, LeadCall, LeadRequest
from kartra_async.bench import percentile

#: Tags, lists and sequences that exist in the sandbox's default account.
TAG = "VIP"
LIST = "Newsletter"


def typical_call(i: int, domain: str = "bench.example") -> LeadCall:
    """A typical call: 8 lead fields, ``create_lead`` + 3 actions (tag, list, points)."""
    return (
        LeadRequest(
            email=f"lead{i}@{domain}",
            first_name="Ada",
            last_name="Lovelace",
            phone="5551234567",
            company="Analytical Engines & Co",
            city="London",
            country="GB",
            zip="N1 9GU",
        )
        .create()
        .assign_tag(TAG)
        .subscribe(LIST)
        .give_points(10)
    )


def large_call(i: int) -> LeadCall:
    """A large call: 20 lead fields, 5 custom fields (one long text) and 10 actions."""
    lead = LeadRequest(
        email=f"big{i}@bench.example",
        first_name="Ada",
        middle_name="Augusta",
        last_name="King",
        last_name2="Lovelace",
        phone="5551234567",
        phone_country_code="+44",
        ip="192.0.2.10",
        address="12 St James's Square",
        zip="SW1Y 4JH",
        city="London",
        state="Greater London",
        country="GB",
        company="Analytical Engines & Co",
        website="https://example.org/ada?x=1&y=2",
        facebook="https://facebook.com/ada",
        twitter="@ada",
        linkedin="https://linkedin.com/in/ada",
        lead_preferred_time_zone="Europe/London",
        business_type=2,
        custom_fields=(
            CustomField("company_size", "250-500"),
            CustomField("notes_long", "Notes: é à ü — " + "lorem ipsum dolor sit amet " * 20),
            CustomField("colour", 3),
            CustomField("gender", 4),
            CustomField("interests", [7, 8, 9]),
        ),
    )
    return (
        lead.create()
        .assign_tag("VIP")
        .assign_tag("Customer")
        .assign_tag("Newsletter")
        .subscribe("Newsletter")
        .subscribe("Customers")
        .subscribe("Prospects")
        .give_points(10)
        .subscribe_to_sequence("Welcome", 1)
        .subscribe_to_sequence("Onboarding", 2)
    )


def median(values: Iterable[float]) -> float:
    """The median (0.0 for no values), by the package's measuring code."""
    return percentile(values, 50)


@dataclass
class Target:
    """A goal beside a figure: met or missed, never a failure."""

    text: str
    met: bool | None

    def cell(self) -> str:
        """``met``/``missed`` followed by the goal, for a table cell."""
        if self.met is None:
            return f"n/a ({self.text})"
        return f"{'met' if self.met else 'MISSED'} ({self.text})"


@dataclass
class Table:
    """A Markdown table plus its raw rows for the JSON report."""

    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append a row (numbers are formatted when rendered, kept raw in JSON)."""
        self.rows.append(list(cells))

    def markdown(self) -> str:
        """The table as GitHub-flavoured Markdown, notes below it."""
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_fmt(cell) for cell in row) + " |")
        lines.extend(["", *(f"- {note}" for note in self.notes)] if self.notes else [])
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The table's rows keyed by column, targets as {text, met}."""
        rows = []
        for row in self.rows:
            rows.append(
                {
                    column: (
                        {"target": cell.text, "met": cell.met} if isinstance(cell, Target) else cell
                    )
                    for column, cell in zip(self.columns, row, strict=True)
                }
            )
        return {"title": self.title, "rows": rows, "notes": self.notes}


def _fmt(cell: Any) -> str:
    if isinstance(cell, Target):
        return cell.cell()
    if isinstance(cell, float):
        if cell == 0:
            return "0"
        if abs(cell) >= 100:
            return f"{cell:,.0f}"
        if abs(cell) >= 10:
            return f"{cell:.1f}"
        return f"{cell:.2f}" if abs(cell) >= 0.1 else f"{cell:.3f}"
    if isinstance(cell, int):
        return f"{cell:,}"
    return str(cell)


def machine() -> dict[str, Any]:
    """Where the figures come from: cores, CPU, Python, package versions, load."""
    versions: dict[str, str | None] = {}
    for name in ("kartra-async", "aiohttp", "attrs", "cattrs", "redis", "uvloop", "psutil"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "load_average_at_start": list(os.getloadavg()),
    }
