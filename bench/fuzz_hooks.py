"""schemathesis hooks for `nox -s fuzz` (loaded through SCHEMATHESIS_HOOKS by bench/fuzz_hub.py).

In the "valid headers" pass of an FSPIOP or 3PPI spec, every request gets headers the hub accepts (Content-Type and
Accept naming the resource and the spec's version, a fresh Date, FSPIOP-Source/Destination taken in turn from the
provisioned FSPs, and now and then the generated values), so the generated paths and bodies reach the handlers and
their background work instead of stopping at header validation. The "raw" pass leaves schemathesis' own headers
(the header checks are fuzzed there). Settings come from the environment the harness sets.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import schemathesis

from mojacheck.fspiop import accept_header, content_type, http_date

_turn = itertools.count()


def _fsps() -> list[str]:
    return [name for name in os.environ.get("MOJACHECK_FUZZ_FSPS", "").split(",") if name]


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if os.environ.get("MOJACHECK_FUZZ_HEADERS") != "valid":
        return
    version = os.environ.get("MOJACHECK_FUZZ_VERSION", "1.1")
    resource = case.operation.path.lstrip("/").split("/", 1)[0]
    headers = {k: v for k, v in (case.headers or {}).items()
               if k.lower() not in ("content-type", "accept", "date", "fspiop-source", "fspiop-destination")}
    headers["Content-Type"] = content_type(resource, version)
    if case.method.upper() in ("GET", "POST", "DELETE"):
        headers["Accept"] = accept_header(resource, version.split(".", 1)[0])
    headers["Date"] = http_date()
    fsps, turn = _fsps(), next(_turn)
    generated = {k.lower(): v for k, v in (case.headers or {}).items()}
    if fsps and turn % 4 != 3:  # every fourth request keeps the generated source and destination
        source, destination = fsps[turn % len(fsps)], fsps[(turn + 1) % len(fsps)]
    else:
        source, destination = generated.get("fspiop-source") or "fuzzfsp", generated.get("fspiop-destination")
    headers["FSPIOP-Source"] = str(source)
    if destination is not None:
        headers["FSPIOP-Destination"] = str(destination)
    case.headers = headers
