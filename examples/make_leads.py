"""Generate ``examples/leads.csv``: about 1,000 realistic leads for ``kartra-async import``.

Deterministic (seeded): running it again rewrites the same file. The custom field columns match
the sandbox's default account (``cf:company_size``, ``cf:notes_long``, ``cf:colour``,
``cf:gender``, ``cf:interests``); drop-downs and radio buttons use option names, checkboxes
option ids separated by ``|``. A handful of rows are deliberately invalid, to show validation:
their numbers are printed when the file is written.

    python examples/make_leads.py [--rows 1000] [--out examples/leads.csv]
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from pathlib import Path

from kartra_async import TIME_ZONES

SEED = 20260128
# (country, phone code, cities, time zones that fit)
COUNTRIES = [
    ("US", "+1", ["New York", "Chicago", "Austin", "Denver", "Seattle"],
     ["America/New_York", "America/Chicago", "America/Boise", "America/Los_Angeles"]),
    ("GB", "+44", ["London", "Manchester", "Leeds", "Bristol"], ["Europe/London"]),
    ("DE", "+49", ["Berlin", "München", "Köln", "Hamburg"], ["Europe/Amsterdam"]),
    ("FR", "+33", ["Paris", "Lyon", "Marseille", "Lille"], ["Europe/Brussels"]),
    ("ES", "+34", ["Madrid", "Barcelona", "Sevilla"], ["Europe/Brussels"]),
    ("BR", "+55", ["São Paulo", "Rio de Janeiro", "Curitiba"], ["America/Sao_Paulo"]),
    ("MX", "+52", ["Ciudad de México", "Guadalajara", "Monterrey"], ["America/Mexico_City"]),
    ("IN", "+91", ["Mumbai", "Bengaluru", "Delhi", "Pune"], ["Asia/Kolkata"]),
    ("JP", "+81", ["Tokyo", "Osaka", "Kyoto"], ["Asia/Tokyo"]),
    ("AU", "+61", ["Sydney", "Melbourne", "Brisbane", "Perth"],
     ["Australia/Sydney", "Australia/Brisbane", "Australia/Perth"]),
    ("CA", "+1", ["Toronto", "Vancouver", "Montréal"], ["America/New_York", "America/Los_Angeles"]),
    ("ZA", "+27", ["Cape Town", "Johannesburg", "Durban"], ["Africa/Harare"]),
]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Giulia", "Hiro", "Ines", "Jonas",
         "Kofi", "Lena", "Mateo", "Nora", "Olu", "Priya", "Quinn", "Rafael", "Sofia", "Tomás",
         "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Ada", "Björn", "Camille", "Diego"]
LAST = ["Smith", "García", "Müller", "Rossi", "Tanaka", "Silva", "Nguyen", "O'Brien", "Kowalski",
        "Dubois", "Johansson", "Patel", "Kim", "Haddad", "Fischer", "López", "Novak", "Costa",
        "Ivanova", "Mensah", "van der Berg", "Ferreira", "Sato", "Andersen", "Murphy"]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella, Inc.", "Hooli", "Stark Industries",
             "Wayne Enterprises", "Vandelay Industries", "", "", "Freelance"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1000+", ""]
COLOURS = ["blue", "brown", "green", ""]
GENDERS = ["female", "male", "other", ""]
INTERESTS = ["7", "8", "9", "7|8", "8|9", "7|9", "7|8|9", ""]
NOTES = ["", "", "", "Met at the webinar", "Asked about pricing,\nwants a call back",
         'Said "maybe next quarter"']
HEADER = ["email", "first_name", "last_name", "phone_country_code", "phone", "country", "city",
          "company", "lead_preferred_time_zone", "cf:company_size", "cf:notes_long", "cf:colour",
          "cf:gender", "cf:interests"]
# Row index (0-based among data rows) → how to break it, so validation has something to show.
BROKEN = {
    41: ("email", "not-an-email"),
    187: ("lead_preferred_time_zone", "Mars/Olympus_Mons"),
    333: ("cf:colour", "purple"),
    512: ("email", ""),
    640: ("cf:interests", "7|many"),
    777: ("cf:gender", "female|male"),
    901: ("email", "two@@example.com"),
}


def _lead(rng: random.Random, index: int) -> dict[str, str]:
    country, code, cities, zones = rng.choice(COUNTRIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    local = name.lower().replace(" ", "").replace("'", "")
    zone = rng.choice(zones)
    assert zone in TIME_ZONES, zone
    return {
        "email": f"{local}.{index}@{rng.choice(DOMAINS)}",
        "first_name": first,
        "last_name": last,
        "phone_country_code": code,
        "phone": "".join(rng.choice("0123456789") for _ in range(9)),
        "country": country,
        "city": rng.choice(cities),
        "company": rng.choice(COMPANIES),
        "lead_preferred_time_zone": zone if rng.random() < 0.9 else "",
        "cf:company_size": rng.choice(SIZES),
        "cf:notes_long": rng.choice(NOTES),
        "cf:colour": rng.choice(COLOURS),
        "cf:gender": rng.choice(GENDERS),
        "cf:interests": rng.choice(INTERESTS),
    }


def write(path: Path, rows: int) -> list[int]:
    """Write the file; return the line numbers of the deliberately invalid rows."""
    rng = random.Random(SEED)
    broken_lines = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        line = 2
        for index in range(rows):
            lead = _lead(rng, index)
            if index in BROKEN:
                column, value = BROKEN[index]
                lead[column] = value
                broken_lines.append(line)
            writer.writerow(lead)
            line += 1 + lead["cf:notes_long"].count("\n")
    return broken_lines


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("leads.csv"))
    args = parser.parse_args()
    broken = write(args.out, args.rows)
    print(f"wrote {args.rows} rows to {args.out}; invalid rows on lines {broken}")


if __name__ == "__main__":
    main()
