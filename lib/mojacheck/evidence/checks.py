"""Named checks and scenarios: the events every report (notebook display, summary.json, JUnit) consumes.

A check records what was expected, what was seen and whether they agree; it never raises, so one wrong value
does not hide the checks after it. A scenario groups checks with the exchanges (requests, responses,
callbacks) that produced them.

Names are unique: a check name repeated within its scenario (a loop, one conformance check per awaited
callback) gets an ordinal, " #2", " #3", in the order the checks are made, and so does a scenario name repeated
within a notebook. "scenario :: check" then names one check of a notebook, the same one from run to run, for
the JUnit report, the run comparison and the upgrade guide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mojacheck.evidence.prose import counted, prose

__all__ = ["Check", "Record", "Scenario", "Totals", "name_key", "unique_name"]

_REMARK = re.compile(r"\s*\([^()]*\)$")
_ORDINAL = re.compile(r" #\d+$")


def name_key(name: str) -> str:
    """What makes two names one: the name without a trailing remark in parentheses (`Hub account USD
    (created)` and `… (existed)` are one check on a fresh and on a provisioned hub), its ordinal kept
    (`… #2` is another check than the one before it)."""
    found = _ORDINAL.search(name)
    base, ordinal = (name[: found.start()], found.group()) if found else (name, "")
    return (_REMARK.sub("", base) or base) + ordinal


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `name #N` with the lowest N ≥ 2 whose key is free, when its key is in `taken`; the key of the
    result is added to `taken`. The same names in the same order give the same results."""
    candidate, n = name, 1
    while name_key(candidate) in taken:
        n += 1
        candidate = f"{name} #{n}"
    taken.add(name_key(candidate))
    return candidate


@dataclass
class Check:
    """One named check: expected and actual as shown (text), whether they agreed, the error code it names and
    the release-expectations entry it asserts (None when none)."""

    name: str
    expected: str
    actual: str
    passed: bool
    error_code: str | None = None
    expectation: str | None = None  # the release-expectations entry this check asserts, if any

    def to_dict(self) -> dict[str, Any]:
        """The check as a scenario scrap stores it."""
        return {"name": self.name, "expected": self.expected, "actual": self.actual,
                "passed": self.passed, "error_code": self.error_code, "expectation": self.expectation}


@dataclass
class Record:
    """One request/response or received callback, as the scrap and the evidence list show it."""

    kind: str  # "request" | "callback" | "sent-by-sim"
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    response_body: Any = None
    note: str = ""

    def to_scrap(self) -> dict[str, Any]:
        """The record as a scrap's `requests` entry: method, url, status, elapsed_ms (ms, 2 decimals), kind."""
        return {"method": self.method, "url": self.url, "status": self.status,
                "elapsed_ms": round(self.elapsed_ms, 2), "kind": self.kind}


@dataclass
class Scenario:
    """A named group of checks and the records (requests, callbacks) made while it was open."""

    name: str
    index: int
    checks: list[Check] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _taken: set[str] = field(default_factory=set, init=False, repr=False, compare=False)  # keys of check names
    # The release-expectations entry every check of the scenario asserts unless it names its own: a scenario that
    # exists only at some releases (FX from 17) says so once, and a run comparison expects it to come and go.
    expectation: str | None = None

    @property
    def failed(self) -> int:
        """How many of its checks failed."""
        return sum(1 for c in self.checks if not c.passed)

    @property
    def passed(self) -> bool:
        """True when it made at least one check and none failed."""
        return bool(self.checks) and self.failed == 0

    @property
    def duration_s(self) -> float:
        """Seconds from its start to its finish (to now while it is still open)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def check(self, name: str, expected: Any, actual: Any, *, error_code: str | None = None,
              compare: Callable[[Any, Any], bool] | None = None, expectation: str | None = None) -> Check:
        """Record a named check. `compare(expected, actual)` defaults to equality; `expectation` defaults to the
        scenario's. A name this scenario already used gets the next ordinal (" #2")."""
        ok = compare(expected, actual) if compare else expected == actual
        item = Check(unique_name(name, self._taken), prose(expected), prose(actual), bool(ok), error_code,
                     expectation or self.expectation)
        self.checks.append(item)
        return item

    def to_scrap(self) -> dict[str, Any]:
        """The scenario as its scrap: name, checks, requests, duration_s, and `transfers` when it made any."""
        scrap = {"name": self.name, "checks": [c.to_dict() for c in self.checks],
                 "requests": [r.to_scrap() for r in self.records],
                 "duration_s": round(self.duration_s, 3)}
        if transfers := self.transfer_ids():
            scrap["transfers"] = transfers  # optional: what `mojacheck snapshot` looks up later, by id
        return scrap

    def transfer_ids(self) -> list[str]:
        """Ids of the transfers this scenario asked the hub to create (POST /transfers), in order."""
        ids: list[str] = []
        for r in self.records:
            body = r.request_body
            if (r.kind == "request" and r.method == "POST" and r.url.split("?")[0].endswith("/transfers")
                    and isinstance(body, dict) and isinstance(body.get("transferId"), str)
                    and body["transferId"] not in ids):
                ids.append(body["transferId"])
        return ids


@dataclass(frozen=True)
class Totals:
    """A notebook's counts so far, shown as one readable line (the last cell of every notebook)."""

    scenarios: int
    checks: int
    failed: int
    failed_scenarios: int = 0

    @property
    def passed(self) -> int:
        """Checks that passed."""
        return self.checks - self.failed

    def __str__(self) -> str:
        verdict = "PASSED" if not self.failed and self.checks else "FAILED"
        return (f"{verdict}: {counted(self.scenarios, 'scenario')} ({self.failed_scenarios} failed), "
                f"{counted(self.checks, 'check')}: {self.passed} passed, {self.failed} failed")

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"**{self}**"
