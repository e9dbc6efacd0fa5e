"""The pure parts of ``kartra-async import``, usable without the command line.

- ``_source``: stream CSV/JSONL records (``read_rows``), the file's checksum (``file_facts``);
- ``_columns``: columns → ``LeadRequest`` (``ColumnPlan``), options → the call (``ImportOptions``);
- ``_journal``: the append-only journal that makes ``--resume`` exact (its docstring is the spec);
- ``_results``: result records, the results file, the summary ``Tally``;
- ``_rejects``: the rejects file (invalid and failed rows, re-importable once fixed);
- ``_recovery``: which journaled failures ``--retry-failed`` sends again; the circuit breaker;
- ``_repeats``: counting rows that repeat an earlier lead, in little memory;
- ``_run``: ``ImportRun``, which ties them to ``KartraClient.stream``.
"""

from __future__ import annotations

from ._columns import (
    CF_PREFIX,
    LEAD_COLUMNS,
    MODES,
    REJECT_COLUMNS,
    ColumnPlan,
    ImportOptions,
    parse_map_option,
    parse_sequence_option,
)
from ._journal import (
    JournalError,
    JournalHeader,
    JournalState,
    JournalWriter,
    RowSet,
    check_witness,
    iter_done,
    read_journal,
)
from ._lock import JournalBusy, JournalLock, lock_path
from ._recovery import Breaker, RetryChoice
from ._rejects import RejectsWriter
from ._repeats import SeenLeads
from ._results import (
    RESULT_FIELDS,
    ResultsWriter,
    Tally,
    failure_of,
    invalid_record,
    neutralize_cell,
    outcome_record,
    record_failure,
)
from ._run import ImportRun
from ._source import (
    FORMATS,
    FileFacts,
    SourceError,
    SourceRow,
    csv_header,
    detect_encoding,
    file_facts,
    guess_format,
    read_rows,
)

__all__ = [
    "CF_PREFIX",
    "FORMATS",
    "LEAD_COLUMNS",
    "MODES",
    "REJECT_COLUMNS",
    "RESULT_FIELDS",
    "Breaker",
    "ColumnPlan",
    "FileFacts",
    "ImportOptions",
    "ImportRun",
    "JournalBusy",
    "JournalError",
    "JournalHeader",
    "JournalLock",
    "JournalState",
    "JournalWriter",
    "RejectsWriter",
    "ResultsWriter",
    "RetryChoice",
    "RowSet",
    "SeenLeads",
    "SourceError",
    "SourceRow",
    "Tally",
    "check_witness",
    "csv_header",
    "detect_encoding",
    "failure_of",
    "file_facts",
    "guess_format",
    "invalid_record",
    "iter_done",
    "lock_path",
    "neutralize_cell",
    "outcome_record",
    "parse_map_option",
    "parse_sequence_option",
    "read_journal",
    "read_rows",
    "record_failure",
]
