"""`nox -s fuzz`: schema-fuzz every API the embedded hub serves, bounded, and count what matters.

    nox -s fuzz -- [--spec-dir DIR] [--spec NAME=PATH ...] [--examples N] [--seed S] [--only NAME,NAME]

The specs are the official definitions, read at run time and never copied into the project:

* ``fspiop-1.0``, ``fspiop-1.1``, ``fspiop-2.0``, ``thirdparty``: the files of npm ``@mojaloop/api-snippets``
  (``docs/``) in ``--spec-dir``; by default the params' ``api.spec_dir`` (``--env``, default local), which is the
  pinned cache of ``@mojaloop/api-snippets`` 18.4.1 that ``mojacheck specs`` fills (``nox -s fuzz`` runs it first).
* ``admin``: central-ledger's ``src/api/interface/swagger.json``, fetched with npm from ``@mojaloop/central-ledger``
  (version and integrity pinned below) into the same user cache.
* ``settlement``: central-settlement's ``src/interface/swagger.json``; it is not published to npm, so give its path:
  ``--spec settlement=PATH``.
* optional, when given: ``als-admin`` (ALS ``src/interface/admin-swagger.yaml``), ``auth-service`` (``src/interface/
  api.yaml``).
``--spec NAME=PATH`` overrides any of them.

It starts a hub (fresh SQLite) and a sink FSP as processes and provisions FSPs whose callbacks go to the sink, so
deliveries succeed and background work runs to its end. One request per operation tells the routes the hub serves
from those it does not (404 3002 or 405: counted, not fuzzed further). Then ``schemathesis run`` per spec: examples,
coverage and fuzzing phases, positive and negative data, at most ``--examples`` cases per operation, a fixed seed;
FSPIOP and 3PPI specs twice, with schemathesis' own headers and then with headers the hub accepts, so the generated
paths and bodies reach the handlers (bench/fuzz_hooks.py). Patterns hypothesis cannot generate from (``\\p{L}``) are
simplified in a derived copy of the spec in a temporary folder.

Report (console, and ``outputs/fuzz/<UTC>.json``): requests per spec and pass, answers by status, every 5xx grouped
by error code and description, and the hub log's ERROR lines (a failed background task logs one). A 5xx is
*unexpected* when the hub answered its own crash marker (``Unexpected error in the hub``) or no errorInformation;
other 5xx are answers the hub gives on purpose because Mojaloop's service does (e.g. central-ledger's 500 2001
``Participant does not exist``): they are listed apart. Exit 0 clean; 1 an unexpected 5xx, an ERROR line or a dead
hub; 2 the run could not be done in full (a spec missing, a tool failed).
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from support import free_port, hub_command, process, sink_command, wait_up

from mojacheck.evidence.specs import cache_root
from mojacheck.fspiop import accept_header, content_type, http_date
from mojacheck.params import find_root, load_params

ROOT = find_root(Path(__file__).resolve().parent)
CENTRAL_LEDGER = "@mojaloop/central-ledger"
CENTRAL_LEDGER_VERSION = "19.5.5"  # its admin swagger is identical to central-ledger 19.14.0's (release 17)
CENTRAL_LEDGER_INTEGRITY = (
    "sha512-QEmw/RDvtTWax4RUj9Ch865IdEatQPoKGpRqiw7I8qV9CIyZQkTYhaHPj3oQcIk2wIqAqyuHjg/rvdFy4iD2gQ==")
CENTRAL_LEDGER_MEMBER = "package/src/api/interface/swagger.json"
CRASH_MARKER = "Unexpected error in the hub"
FSPS = ("fuzzpayer", "fuzzpayee", "fuzzpisp", "fuzzauth")
_PARTY = "/parties/{{partyIdType}}/{{partyIdentifier}}"
_PARTICIPANT = "/participants/{{partyIdType}}/{{partyIdentifier}}"
FSPIOP_ENDPOINTS = {  # the callback URL templates a DFSP registers (Mojaloop's testing-toolkit provisioning)
    "FSPIOP_CALLBACK_URL_PARTIES_GET": _PARTY, "FSPIOP_CALLBACK_URL_PARTIES_PUT": _PARTY,
    "FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR": _PARTY + "/error",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET": _PARTY + "/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT": _PARTY + "/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR": _PARTY + "/{{partySubIdOrType}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT": _PARTICIPANT,
    "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR": _PARTICIPANT + "/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT": _PARTICIPANT + "/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR": _PARTICIPANT + "/{{partySubIdOrType}}/error",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_DELETE": _PARTICIPANT + "/{{partySubIdOrType}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT": "/participants/{{requestId}}",
    "FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR": "/participants/{{requestId}}/error",
    "FSPIOP_CALLBACK_URL_QUOTES": "", "FSPIOP_CALLBACK_URL_TRANSFER_POST": "/transfers",
    "FSPIOP_CALLBACK_URL_TRANSFER_PUT": "/transfers/{{transferId}}",
    "FSPIOP_CALLBACK_URL_TRANSFER_ERROR": "/transfers/{{transferId}}/error",
}
TP_ENDPOINTS = (  # 3PPI endpoints are base URLs; the relay appends the request path
    "TP_CB_URL_TRANSACTION_REQUEST_GET", "TP_CB_URL_TRANSACTION_REQUEST_POST", "TP_CB_URL_TRANSACTION_REQUEST_PUT",
    "TP_CB_URL_TRANSACTION_REQUEST_PUT_ERROR", "TP_CB_URL_TRANSACTION_REQUEST_PATCH",
    "TP_CB_URL_TRANSACTION_REQUEST_AUTH_POST", "TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT",
    "TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT_ERROR", "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_POST",
    "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT", "TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT_ERROR",
    "TP_CB_URL_CONSENT_REQUEST_POST", "TP_CB_URL_CONSENT_REQUEST_PUT", "TP_CB_URL_CONSENT_REQUEST_PUT_ERROR",
    "TP_CB_URL_CONSENT_REQUEST_PATCH", "TP_CB_URL_CONSENT_POST", "TP_CB_URL_CONSENT_PUT", "TP_CB_URL_CONSENT_PATCH",
    "TP_CB_URL_CONSENT_PUT_ERROR", "TP_CB_URL_ACCOUNTS_GET", "TP_CB_URL_ACCOUNTS_PUT", "TP_CB_URL_ACCOUNTS_PUT_ERROR",
    "TP_CB_URL_SERVICES_PUT", "TP_CB_URL_SERVICES_PUT_ERROR",
)
PARTY_ID_TYPES = ("MSISDN", "EMAIL", "PERSONAL_ID", "BUSINESS", "DEVICE", "ACCOUNT_ID", "IBAN", "ALIAS", "CONSENT",
                  "THIRD_PARTY_LINK")


@dataclass(frozen=True)
class Spec:
    name: str
    file: str | None  # the published file name in api-snippets docs/, else None (path given or fetched)
    base: str  # where the hub serves it
    version: str | None = None  # FSPIOP/3PPI version for the valid-headers pass; None: no FSPIOP headers
    required: bool = True


SPECS = (
    Spec("fspiop-1.0", "fspiop-rest-v1.0-openapi3-snippets.yaml", "", "1.0"),
    Spec("fspiop-1.1", "fspiop-rest-v1.1-openapi3-snippets.yaml", "", "1.1"),
    Spec("fspiop-2.0", "fspiop-rest-v2.0-openapi3-snippets.yaml", "", "2.0"),
    Spec("thirdparty", "thirdparty-v1.0-openapi3-snippets.yaml", "", "1.0"),
    Spec("admin", None, "/admin"),
    Spec("settlement", None, "/settlement/v2"),
    Spec("als-admin", None, "/als-admin", required=False),
    Spec("auth-service", None, "/auth-service", "1.0", required=False),
)


@dataclass
class PassResult:
    spec: str
    headers: str  # "generated" or "valid"
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: dict[str, int] = field(default_factory=dict)  # "status code description" → count
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    tool_exit: int = 0


# ---------------------------------------------------------------- specs


def fetch_admin_spec() -> Path:
    """central-ledger's admin swagger from its npm package (pinned version and integrity), cached."""
    target = cache_root() / f"central-ledger-{CENTRAL_LEDGER_VERSION}" / "swagger.json"
    if target.is_file():
        return target
    npm = shutil.which("npm") or shutil.which("npm", path=str(Path(sys.executable).parent))
    if npm is None:
        raise SystemExit("no npm to fetch central-ledger's admin spec: install Node.js or give --spec admin=PATH")
    with tempfile.TemporaryDirectory(prefix="mojacheck-npm-") as tmp:
        subprocess.run([npm, "pack", f"{CENTRAL_LEDGER}@{CENTRAL_LEDGER_VERSION}", "--ignore-scripts"], cwd=tmp,
                       check=True, capture_output=True, timeout=300)
        tarball = next(Path(tmp).glob("*.tgz"))
        data = tarball.read_bytes()
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if integrity != CENTRAL_LEDGER_INTEGRITY:
            raise SystemExit(f"{tarball.name}: integrity {integrity} is not the pinned {CENTRAL_LEDGER_INTEGRITY}")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(CENTRAL_LEDGER_MEMBER)
            if member is None:
                raise SystemExit(f"{tarball.name} has no {CENTRAL_LEDGER_MEMBER}")
            content = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(target)
    return target


def locate_specs(spec_dir: Path | None, given: dict[str, Path]) -> tuple[dict[str, Path], list[str]]:
    """Every spec's file, and why the missing ones are missing."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for spec in SPECS:
        path = given.get(spec.name)
        if path is None and spec.file and spec_dir is not None:
            path = spec_dir / spec.file
        if path is None and spec.name == "admin":
            path = fetch_admin_spec()
        if path is not None and path.is_file():
            found[spec.name] = path
        elif spec.required:
            where = f"{path} does not exist" if path else "no file given"
            missing.append(f"{spec.name}: {where} (--spec {spec.name}=PATH)")
    return found, missing


_IDS = re.compile(r"(?<=/)(?=[^/\s]*[0-9])[^/\s]+")  # path segments with a digit (ids), so answers group
_UNICODE_CLASS = re.compile(r"\\p\{[^}]*\}")


def simplify_patterns(node: Any) -> Any:
    """The same document with ``\\p{…}`` classes (which hypothesis cannot generate from) read as ``\\w``."""
    if isinstance(node, dict):
        return {k: (_UNICODE_CLASS.sub(r"\\w", v) if k == "pattern" and isinstance(v, str) else simplify_patterns(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [simplify_patterns(v) for v in node]
    return node


def load_spec(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


# ---------------------------------------------------------------- the hub under test


def provision(hub: str, sink: str) -> None:
    """Hub accounts, a settlement model, an oracle per party id type, FSPs with every callback at the sink."""
    admin = httpx.Client(base_url=hub + "/admin", timeout=10)
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        admin.post("/participants/Hub/accounts", json={"type": kind, "currency": "USD"}).raise_for_status()
    admin.post("/settlementModels", json={
        "name": "DEFERREDNET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True}).raise_for_status()
    for id_type in PARTY_ID_TYPES:
        httpx.post(hub + "/als-admin/oracles", timeout=10, json={
            "oracleIdType": id_type, "endpoint": {"value": "builtin", "endpointType": "URL"}}).raise_for_status()
    for name in FSPS:
        admin.post("/participants", json={"name": name, "currency": "USD"}).raise_for_status()
        admin.post(f"/participants/{name}/initialPositionAndLimits", json={
            "currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 10**9}, "initialPosition": 0,
        }).raise_for_status()
        base = f"{hub}/auth-service" if name == "fuzzauth" else f"{sink}/{name}"
        endpoints = {kind: base + path for kind, path in FSPIOP_ENDPOINTS.items()} | dict.fromkeys(TP_ENDPOINTS, base)
        for kind, value in endpoints.items():
            admin.post(f"/participants/{name}/endpoints", json={"type": kind, "value": value}).raise_for_status()
        account = next(a for a in admin.get(f"/participants/{name}/accounts").json()
                       if a["ledgerAccountType"] == "SETTLEMENT")
        admin.post(f"/participants/{name}/accounts/{account['id']}", json={
            "transferId": str(uuid.uuid4()), "externalReference": "fuzz", "action": "recordFundsIn",
            "reason": "fuzz", "amount": {"amount": "1000000", "currency": "USD"}}).raise_for_status()


def fspiop_headers(path: str, method: str, version: str) -> dict[str, str]:
    resource = path.lstrip("/").split("/", 1)[0]
    headers = {"Content-Type": content_type(resource, version), "Date": http_date(), "FSPIOP-Source": FSPS[0],
               "FSPIOP-Destination": FSPS[1]}
    if method in ("GET", "POST", "DELETE"):
        headers["Accept"] = accept_header(resource, version.split(".", 1)[0])
    return headers


def served_operations(hub: str, spec: Spec, document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The document with only the operations the hub routes, and the labels of those it does not."""
    methods = ("get", "put", "post", "delete", "patch")
    kept: dict[str, Any] = {}
    unserved: list[str] = []
    with httpx.Client(base_url=hub + spec.base, timeout=10) as client:
        for path, item in (document.get("paths") or {}).items():
            concrete = re.sub(r"{[^}]+}", "1", path)
            keep = {k: v for k, v in item.items() if k not in methods}
            for method in [m for m in methods if m in item]:
                headers = fspiop_headers(path, method.upper(), spec.version) if spec.version else {}
                body = b"{}" if method in ("put", "post", "patch") else None
                r = client.request(method.upper(), concrete, headers=headers, content=body)
                code = _error_code(r.text)
                if r.status_code == 405 or (r.status_code == 404 and code == "3002"):
                    unserved.append(f"{method.upper()} {path}")
                else:
                    keep[method] = item[method]
            if any(m in keep for m in methods):
                kept[path] = keep
    return {**document, "paths": kept}, unserved


def _error_code(text: str) -> str | None:
    try:
        return str(json.loads(text)["errorInformation"]["errorCode"])
    except (ValueError, KeyError, TypeError):
        return None


def _description(text: str) -> str | None:
    try:
        return str(json.loads(text)["errorInformation"]["errorDescription"])
    except (ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------- fuzzing


def run_schemathesis(spec: Spec, derived: Path, url: str, headers: str, ns: argparse.Namespace,
                     work: Path) -> PassResult:
    har = work / f"{spec.name}-{headers}.har"
    args = [sys.executable, "-m", "schemathesis.cli", "run", str(derived), "--url", url,
            "--max-examples", str(ns.examples), "--mode", "all", "--phases", "examples,coverage,fuzzing",
            "--checks", "not_a_server_error", "--seed", str(ns.seed), "--no-shrink", "--workers", str(ns.workers),
            "--request-timeout", "10", "--suppress-health-check", "all", "--warnings", "off",
            "--report", "har", "--report-har-path", str(har)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "MOJACHECK_FUZZ_HEADERS": headers,
           "MOJACHECK_FUZZ_VERSION": spec.version or "", "MOJACHECK_FUZZ_FSPS": ",".join(FSPS),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    with (work / f"{spec.name}-{headers}.log").open("wb") as log:
        proc = subprocess.run(args, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    result = PassResult(spec.name, headers, seconds=time.monotonic() - started, tool_exit=proc.returncode)
    if not har.is_file():
        result.tool_exit = result.tool_exit or 2
        return result
    count_answers(result, json.loads(har.read_text(encoding="utf-8"))["log"]["entries"])
    har.unlink()  # tens of MB; the counts are what is kept
    return result


def count_answers(result: PassResult, entries: list[dict[str, Any]]) -> None:
    statuses: collections.Counter[int] = collections.Counter()
    server_errors: collections.Counter[str] = collections.Counter()
    for entry in entries:
        status = int(entry["response"]["status"])
        statuses[status] += 1
        if status < 500:
            continue
        text = entry["response"].get("content", {}).get("text") or ""
        code, description = _error_code(text), _description(text)
        server_errors[f"{status} {code} {_IDS.sub('{id}', description or '')}"] += 1
        if code is None or CRASH_MARKER in (description or ""):
            request = entry["request"]
            result.unexpected.append({"method": request["method"], "url": request["url"], "status": status,
                                      "body": (request.get("postData") or {}).get("text", "")[:2000],
                                      "answer": text[:500]})
    result.requests = len(entries)
    result.statuses = dict(sorted(statuses.items()))
    result.server_errors = dict(server_errors.most_common())


def error_lines(log: Path) -> list[str]:
    """The hub log's ERROR records, each with the last line of its traceback (what went wrong)."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    found = []
    for i, line in enumerate(lines):
        if re.search(r"\bERROR\b", line):
            tail = next((lines[j] for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()
                         and not lines[j].startswith("Traceback")), "")
            found.append(f"{line} | {tail}" if tail and not re.search(r"\bERROR\b", tail) else line)
    return found


# ---------------------------------------------------------------- the run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s fuzz --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="local", help="params whose api.spec_dir holds the FSPIOP/3PPI files")
    parser.add_argument("--spec-dir", type=Path, help="folder of @mojaloop/api-snippets docs/ (default: api.spec_dir)")
    parser.add_argument("--spec", action="append", default=[], metavar="NAME=PATH",
                        help=f"a spec file by name ({', '.join(s.name for s in SPECS)}); repeatable")
    parser.add_argument("--only", help="comma-separated spec names to fuzz (default: every spec found)")
    parser.add_argument("--examples", type=int, default=12, help="at most this many cases per operation and phase")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--release", default="17")
    parser.add_argument("--out", type=Path, help="report JSON (default outputs/fuzz/<UTC>.json)")
    return parser.parse_args()


def given_specs(items: list[str]) -> dict[str, Path]:
    known = {s.name for s in SPECS}
    given = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or name not in known:
            raise SystemExit(f"--spec {item!r}: expected NAME=PATH with NAME one of {', '.join(sorted(known))}")
        given[name] = Path(path).expanduser().resolve()
    return given


def default_spec_dir(env: str) -> Path | None:
    spec_dir = load_params(env, root=ROOT).api.spec_dir
    return Path(spec_dir) if spec_dir else None


@dataclass
class Outcome:
    results: list[PassResult] = field(default_factory=list)
    unserved: dict[str, list[str]] = field(default_factory=dict)
    hub_errors: list[str] = field(default_factory=list)
    hub_alive: bool = True


def fuzz_all(found: dict[str, Path], ns: argparse.Namespace) -> Outcome:
    """A fresh hub and sink, provisioned; every spec found, pass by pass; the hub log read at the end."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="mojacheck-fuzz-") as tmp:
        work = Path(tmp)
        hub_port, sink_port = free_port(), free_port()
        hub, sink = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sink_port}"
        hub_log = work / "hub.log"
        with process(sink_command(sink_port), work / "sink.log") as sink_proc, \
                process(hub_command(hub_port, work / "hub.sqlite", ns.release, "--log-level", "warning"),
                        hub_log) as hub_proc:
            wait_up(sink + "/health", sink_proc)
            wait_up(hub + "/health", hub_proc)
            provision(hub, sink)
            for spec in [s for s in SPECS if s.name in found]:
                document, outcome.unserved[spec.name] = served_operations(hub, spec, load_spec(found[spec.name]))
                derived = work / f"{spec.name}.json"
                derived.write_text(json.dumps(simplify_patterns(document)), encoding="utf-8")
                for headers in (("generated", "valid") if spec.version else ("generated",)):
                    result = run_schemathesis(spec, derived, hub + spec.base, headers, ns, work)
                    outcome.results.append(result)
                    print(summary_line(result), flush=True)
            outcome.hub_alive = hub_proc.poll() is None
        outcome.hub_errors = error_lines(hub_log)
    return outcome


def main() -> int:
    ns = parse_args()
    spec_dir = ns.spec_dir.resolve() if ns.spec_dir else default_spec_dir(ns.env)
    found, missing = locate_specs(spec_dir, given_specs(ns.spec))
    if ns.only:
        wanted = set(ns.only.split(","))
        found = {k: v for k, v in found.items() if k in wanted}
        missing = [m for m in missing if m.split(":", 1)[0] in wanted]
    started = time.monotonic()
    outcome = fuzz_all(found, ns)
    report = {"finished": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(time.monotonic() - started),
              "release": ns.release, "examples": ns.examples, "seed": ns.seed,
              "spec_files": {k: str(v) for k, v in found.items()}, "missing": missing, "unserved": outcome.unserved,
              "passes": [r.__dict__ for r in outcome.results], "hub_errors": outcome.hub_errors,
              "hub_alive": outcome.hub_alive}
    out = ns.out or ROOT / "outputs" / "fuzz" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return print_report(report, outcome.results, out)


def summary_line(r: PassResult) -> str:
    five = sum(n for s, n in r.statuses.items() if s >= 500)
    return (f"{r.spec:<13} {r.headers:<9} {r.requests:>6} requests in {r.seconds:5.0f}s  5xx {five:>4} "
            f"(unexpected {len(r.unexpected)})  statuses {r.statuses}")


def print_report(report: dict[str, Any], results: list[PassResult], out: Path) -> int:
    per_spec: collections.Counter[str] = collections.Counter()
    for r in results:
        per_spec[r.spec] += r.requests
    total = sum(per_spec.values())
    unexpected = [u for r in results for u in r.unexpected]
    deliberate: collections.Counter[str] = collections.Counter()
    for r in results:
        for key, n in r.server_errors.items():
            if CRASH_MARKER not in key and " None " not in key:
                deliberate[key] += n
    print(f"\nrequests per spec: {dict(per_spec)}; total {total} in {report['seconds']}s")
    for spec, labels in report["unserved"].items():
        if labels:
            print(f"{spec}: {len(labels)} operations not served by the hub (404 3002 / 405), not fuzzed")
    print(f"5xx the hub answers on purpose, as Mojaloop's service does: {sum(deliberate.values())}")
    for key, n in deliberate.most_common():
        print(f"  {n:>5} × {key}")
    print(f"unexpected 5xx: {len(unexpected)}")
    for item in unexpected[:20]:
        print(f"  {item['status']} {item['method']} {item['url']} body={item['body'][:200]!r}")
    print(f"hub log ERROR lines (background crashes): {len(report['hub_errors'])}")
    for line in report["hub_errors"][:20]:
        print(f"  {line[:300]}")
    if not report["hub_alive"]:
        print("the hub process died during the run")
    for line in report["missing"]:
        print(f"NOT FUZZED {line}")
    failed_tools = [f"{r.spec}/{r.headers} (schemathesis exit {r.tool_exit})" for r in results if not r.requests]
    for line in failed_tools:
        print(f"NO REQUESTS {line}")
    print(f"report: {out}")
    if unexpected or report["hub_errors"] or not report["hub_alive"]:
        return 1
    return 2 if report["missing"] or failed_tools else 0


if __name__ == "__main__":
    sys.exit(main())
