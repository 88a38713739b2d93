"""Callback bodies checked against the official FSPIOP OpenAPI definition, at run time.

The spec files are the published ones (npm `@mojaloop/api-snippets`, folder `docs/`), read from `api.spec_dir` as
they are (by default the pinned version in the user's cache, evidence/specs.py): the FSPIOP API definition is
CC BY-ND, so nothing of it is copied into this project. A delivered
callback (method + FSP-relative path) is matched against the spec's path templates, and its body is validated
against that operation's `requestBody` schema with `openapi-schema-validator` (OpenAPI 3.0 dialect).

`None` means "not checked" (a path or method the spec does not define, a version whose file is not there), never
"passed".
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
import yaml

from mojacheck.evidence.specs import SPEC_FILES, SpecStatus, spec_status
from mojacheck.fspiop.errors import MojacheckError

__all__ = ["SPEC_FILES", "Conformance", "Outcome", "is_conformance_check", "operation_for", "preload", "spec_version",
           "validate"]

_CHECK_MARK = " body conforms to FSPIOP "
_VERSION = re.compile(r";\s*version\s*=\s*(\d+\.\d+)")
_MAX_MESSAGE = 140  # a violation is one short line; schema errors can quote whole bodies and regexes
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=512)
def _pattern(text: str) -> regex.Pattern[str]:
    return regex.compile(text)


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    """`pattern` as the spec means it (ECMA 262 with Unicode property escapes: the name patterns use \\p{L},
    which Python's `re` cannot compile), through the `regex` module."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """OAS30Validator with the `pattern` above, imported on first use: this module is imported by every notebook
    kernel, and jsonschema imports rfc3987-syntax (a grammar built at import, ~1.2 s) for the `iri` formats, which
    only a format checker uses; we validate without one, so that import is skipped while jsonschema loads."""
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import fails: jsonschema skips iri
    try:
        from jsonschema.validators import extend
        from openapi_schema_validator import OAS30Validator
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]  # anyone importing it later gets the real module
    return extend(OAS30Validator, validators={"pattern": _pattern_keyword})


@dataclass(frozen=True)
class Outcome:
    """One validated body: the operation as the spec names it, the spec version, the violations (empty = ok)."""

    operation: str  # e.g. "PUT /quotes/{ID}"
    version: str
    violations: tuple[str, ...]

    @property
    def check_name(self) -> str:
        """Stable from run to run: the spec's path template, never the concrete id. An error callback is named
        by its resource's template with a trailing remark, so it pairs (reports/runs.check_identity drops the
        remark) with the success callback the same step gets on another hub state or release: registering a
        party answers PUT /participants/{Type}/{ID} on one run and .../error on the next, and both must be one
        check in a comparison. The remark still says which one was validated."""
        if self.operation.endswith("/error"):
            return f"{self.operation[: -len('/error')]}{_CHECK_MARK}{self.version} (error callback)"
        return f"{self.operation}{_CHECK_MARK}{self.version}"

    @property
    def actual(self) -> str:
        return "; ".join(self.violations) if self.violations else "no violations"


def is_conformance_check(name: str) -> bool:
    """Whether a check (by name) is one of these body validations (run comparisons treat them apart)."""
    return _CHECK_MARK in name


@lru_cache(maxsize=8)
def _load(file: str, mtime_ns: int) -> dict[str, Any]:
    try:
        with open(file, encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=_Loader)  # a safe loader (the C one when built)
    except (OSError, yaml.YAMLError) as exc:
        raise MojacheckError(f"cannot read the FSPIOP spec {file}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict) or not str(doc.get("openapi", "")) \
            .startswith("3."):
        raise MojacheckError(f"{file} is not an OpenAPI 3 document with paths")
    return doc


def load_spec(file: str | Path) -> dict[str, Any]:
    """The parsed spec, cached per file (reloaded if the file changes)."""
    path = Path(file).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise MojacheckError(f"cannot read the FSPIOP spec {path}: {exc}") from exc
    return _load(str(path), mtime)


def operation_for(spec: dict[str, Any], method: str, path: str) -> str | None:
    """The spec's path template for `path` that defines `method` (literal segments beat `{params}`), or None."""
    segments = path.split("?", 1)[0].strip("/").split("/")
    best: tuple[int, str] | None = None
    for template, item in spec["paths"].items():
        if not isinstance(item, dict) or method.lower() not in item:
            continue
        parts = template.strip("/").split("/")
        if len(parts) != len(segments):
            continue
        literal = 0
        for part, seg in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                if not seg:
                    break
            elif part == seg:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, template)
    return best[1] if best else None


@lru_cache(maxsize=256)
def _validator(file: str, mtime_ns: int, method: str, template: str) -> Any:
    spec = _load(file, mtime_ns)
    body = (spec["paths"][template].get(method.lower()) or {}).get("requestBody") or {}
    if "$ref" in body:  # a shared requestBody under components
        body = _resolve(spec, body["$ref"])
    content = body.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    if not media or "schema" not in media:
        return None
    # The schema's "#/components/..." references resolve against a root that carries the spec's components.
    root = {**media["schema"], "components": spec.get("components", {})}
    return _validator_class()(root)


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def validate(file: str | Path, method: str, path: str, body: Any) -> tuple[str, list[str]] | None:
    """Validate a body sent as `method path` against the spec `file`: (operation, violations), or None when the
    spec defines no such operation or it takes no body. Violations are "where: what", short."""
    spec = load_spec(file)
    template = operation_for(spec, method, path)
    if template is None:
        return None
    resolved = Path(file).resolve()
    validator = _validator(str(resolved), resolved.stat().st_mtime_ns, method.upper(), template)
    if validator is None:
        return None
    errors = sorted(validator.iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return f"{method.upper()} {template}", [_short(e) for e in errors]


def _short(error: Any) -> str:
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = error.message
    if error.validator == "pattern":
        message = f"{_clip(repr(error.instance), 40)} does not match the pattern of {_schema_name(error)}"
    elif error.validator in ("oneOf", "anyOf", "allOf"):
        message = f"not valid under the {error.validator} of {_schema_name(error)}"
    return f"{where}: {_clip(message, _MAX_MESSAGE)}"


def _schema_name(error: Any) -> str:
    return str(error.schema.get("title") or error.schema.get("description", "the schema")).split(".")[0][:60]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def spec_version(headers: dict[str, str]) -> str | None:
    """The FSPIOP version in a message's Content-Type (`...+json;version=1.1`), None if absent or ISO 20022."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "iso20022" in content_type.lower():
        return None  # ISO 20022 bodies follow another definition
    found = _VERSION.search(content_type)
    return found.group(1) if found else None


def preload(spec_dir: str | None) -> int:
    """Parse every FSPIOP definition in ``spec_dir`` and build the validator class now (about 0.5 s), so the first
    callback a notebook validates does not pay for it: the runner calls this in a kernel it starts ahead of the
    notebook. Returns how many files were loaded; nothing happens when validation is off."""
    status = spec_status(spec_dir)
    if not status.validation or status.folder is None:
        return 0
    loaded = 0
    for version in status.versions:
        file = Path(status.folder) / SPEC_FILES[version]
        if file.is_file():
            load_spec(file)
            loaded += 1
    _validator_class()
    return loaded


class Conformance:
    """The spec folder of one session (`api.spec_dir`). `status` says whether validation is on, and why not."""

    def __init__(self, spec_dir: str | None) -> None:
        self.folder = Path(spec_dir) if spec_dir else None
        self.status: SpecStatus = spec_status(spec_dir)

    @property
    def enabled(self) -> bool:
        return self.status.validation

    def available(self) -> list[str]:
        return list(self.status.versions)

    def note(self) -> str:
        """One plain paragraph for 00_environment: on or off, and why."""
        return self.status.note()

    def check(self, method: str, path: str, headers: dict[str, str], body: Any) -> Outcome | None:
        """Validate one delivered message; None when it is not checked (validation off, no version, no file for
        that version, or an operation the spec does not define)."""
        if not self.enabled:
            return None
        version = spec_version(headers)
        if version is None or version not in SPEC_FILES:
            return None
        assert self.folder is not None
        file = self.folder / SPEC_FILES[version]
        if not file.is_file():
            return None
        found = validate(file, method, path, body)
        if found is None:
            return None
        operation, violations = found
        return Outcome(operation, version, tuple(violations))
