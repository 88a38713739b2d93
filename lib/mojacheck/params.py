"""Params: load `params/<env>.yaml`, apply `--set` overrides, validate, and hand out a frozen tree.

The notebook kernel imports this module (to rebuild `Params` from the injected `params` dict), so it must stay
light: stdlib + yaml only, never nbformat/papermill.

Validation stops at the first problem and names the full key path, so a typo in a nightly job's params is one
clear line, not a stack trace after half a run.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mojacheck.evidence.specs import pinned_spec_dir
from mojacheck.fspiop.errors import ParamsError

__all__ = ["Params", "find_root", "load_params", "params_from_dict"]

RELEASES = ("13", "14", "17")
# Log levels of the embedded hub and simulator (their --log-level): info writes one line per request and delivery.
LOG_LEVELS = ("debug", "info", "warning", "error")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VERSION = re.compile(r"^\d+\.\d+$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Field:
    """One leaf of the schema. `kind` picks the coercion in `_coerce`."""

    kind: str  # a key of _COERCERS
    required: bool = False
    default: Any = None  # a callable is called for the default when the key is absent
    nullable: bool = False
    choices: tuple[str, ...] = ()
    min_items: int = 0


def _url() -> Field:
    return Field("url", required=True)


# The one declarative schema: section → key → Field. Keep names stable; the notebook library reads them.
SCHEMA: dict[str, dict[str, Field]] = {
    "hub": {
        "release": Field("str", required=True, choices=RELEASES),
        "embedded": Field("bool", default=False),
        "port": Field("port", default=4040),
        "db": Field("path", default="outputs/local/hub.sqlite3"),
        "expiry_interval_s": Field("number", default=1.0),
        "log_level": Field("str", default="info", choices=LOG_LEVELS),
        # PROTOCOL_VERSIONS.CONTENT.DEFAULT: the FSPIOP version of the messages the hub originates (GET answers,
        # errors, timeouts, PATCH, duplicate answers), independent of the versions it accepts. Mojaloop's reference
        # deployments run 1.1; real hubs: what the deployment configured. The embedded hub speaks it.
        "content_version": Field("version", default="1.1"),
        # Per resource ({transfers: "1.1", quotes: "1.0"}), as RESOURCE_VERSIONS names them; null = none.
        "resource_versions": Field("version_map", nullable=True),
    },
    "services": {
        name: _url()
        for name in (
            "als", "als_admin", "quoting", "ml_api_adapter", "central_ledger_admin", "central_settlement",
            "thirdparty",
        )
    },
    "sim": {
        "embedded": Field("bool", default=False),
        "port": Field("port", default=4041),
        "log_level": Field("str", default="info", choices=LOG_LEVELS),
        "url": _url(),
        "public_url": _url(),
    },
    "fsps": {
        "payer": Field("str", required=True),
        "payees": Field("str_list", required=True, min_items=2),
        # The FX provider 25_fx and 40_settlement convert through (release 17 on; an ordinary participant holding
        # both currencies). A real Mojaloop v17 has no service that finds FXPs, so it is named here.
        "fxp": Field("str", default="mcfxp"),
    },
    "provisioning": {
        "ndc": Field("decimal", default="100000"),
        "funds_in": Field("decimal", default="200000"),
        "settlement_model": Field("str", default="DEFERREDNET"),
        # What ALS admin registers as the MSISDN oracle's endpoint (the oracle service of the deployment).
        "oracle_endpoint": Field("url", required=True),
        # Where the hub's notifications (settlement position changes, NDC adjustments and breaches) go, for the Hub
        # and every test FSP, as Mojaloop's onboarding registers them.
        "notification_email": Field("str", default="mojacheck-notifications@example.invalid"),
    },
    "api": {
        "version": Field("version", default="1.1"),
        # Folder with the official FSPIOP OpenAPI files (npm @mojaloop/api-snippets, docs/). Absent: the pinned
        # version in the user's cache (`mojacheck specs` fetches it); null: no spec validation. Not required to
        # exist: a missing folder turns validation off, and 00_environment and the run's summary say why.
        "spec_dir": Field("path", nullable=True, default=lambda: str(pinned_spec_dir())),
    },
    "deployment": {
        "on_us_transfers": Field("bool", default=False),
        "supported_versions": Field("version_list", nullable=True),
        # SEND_TRANSFER_CONFIRMATION_TO_PAYEE of ml-api-adapter: off in its helm chart, on in its code default.
        "transfer_confirmation_to_payee": Field("bool", default=False),
        # quoting-service SIMPLE_ROUTING_MODE (default and helm: true): no duplicate detection of quotes.
        "quotes_simple_routing": Field("bool", default=True),
    },
    "timeouts": {
        "callback_s": Field("number", default=10.0),
        "http_s": Field("number", default=10.0),
        # How long a check watches for a message that must NOT come (an absence is only seen by waiting);
        # null: half of callback_s. The embedded hub delivers in milliseconds, a real one needs more.
        "silence_s": Field("number", nullable=True),
    },
    "tls": {
        "verify": Field("bool", default=True),
        "ca_file": Field("path", nullable=True),
        "client_cert": Field("path", nullable=True),
        "client_key": Field("path", nullable=True),
        "client_key_password_env": Field("envname", nullable=True),
    },
    "auth": {"bearer_token_env": Field("envname", nullable=True, default="MOJACHECK_BEARER_TOKEN")},
    # FSPIOP JWS (FSPIOP-Signature). Off when every key is null.
    "jws": {
        # Embedded hub: sign the messages it originates with this PEM private key (ml-api-adapter JWS_SIGN).
        "hub_signing_key": Field("path", nullable=True),
        "hub_signing_key_password_env": Field("envname", nullable=True),
        # The hub's public key or certificate (PEM): notebooks check the signature of every hub-made callback.
        "hub_public_key": Field("path", nullable=True),
        # Embedded hub: validate FSPs' signatures (JWS_VALIDATE, from release 17); a real hub: whether it does.
        "validate": Field("bool", default=False),
        # <fspId>.pem (public key or certificate the hub validates with) and <fspId>.key (private key the
        # simulator and the notebooks sign with as that FSP), per test FSP.
        "fsp_keys_dir": Field("path", nullable=True),
    },
}
# Top-level leaves (not sections).
TOP_LEVEL: dict[str, Field] = {"currencies": Field("str_list", required=True, min_items=1)}


# ---------------------------------------------------------------- the frozen tree


@dataclass(frozen=True)
class HubParams:
    release: str
    embedded: bool
    port: int
    db: str  # absolute path
    expiry_interval_s: float
    log_level: str
    content_version: str
    resource_versions: dict[str, str] | None


@dataclass(frozen=True)
class ServicesParams:
    als: str
    als_admin: str
    quoting: str
    ml_api_adapter: str
    central_ledger_admin: str
    central_settlement: str
    thirdparty: str


@dataclass(frozen=True)
class SimParams:
    embedded: bool
    port: int
    log_level: str
    url: str
    public_url: str


@dataclass(frozen=True)
class FspsParams:
    payer: str
    payees: tuple[str, ...]
    fxp: str


@dataclass(frozen=True)
class ProvisioningParams:
    ndc: Decimal
    funds_in: Decimal
    settlement_model: str
    oracle_endpoint: str
    notification_email: str


@dataclass(frozen=True)
class ApiParams:
    version: str
    spec_dir: str | None  # absolute path (absent in the YAML: the pinned cache), or None (validation off)


@dataclass(frozen=True)
class DeploymentParams:
    on_us_transfers: bool
    supported_versions: tuple[str, ...] | None
    transfer_confirmation_to_payee: bool
    quotes_simple_routing: bool


@dataclass(frozen=True)
class TimeoutsParams:
    callback_s: float
    http_s: float
    silence_s: float | None


@dataclass(frozen=True)
class TlsParams:
    verify: bool
    ca_file: str | None
    client_cert: str | None
    client_key: str | None
    client_key_password_env: str | None


@dataclass(frozen=True)
class AuthParams:
    bearer_token_env: str | None


@dataclass(frozen=True)
class JwsParams:
    hub_signing_key: str | None
    hub_signing_key_password_env: str | None
    hub_public_key: str | None
    validate: bool
    fsp_keys_dir: str | None


_SECTION_TYPES: dict[str, type] = {
    "hub": HubParams, "services": ServicesParams, "sim": SimParams, "fsps": FspsParams,
    "provisioning": ProvisioningParams, "api": ApiParams, "deployment": DeploymentParams,
    "timeouts": TimeoutsParams, "tls": TlsParams, "auth": AuthParams, "jws": JwsParams,
}
# Secret short names → where the env var NAME lives.
_SECRETS = {
    "bearer_token": ("auth", "bearer_token_env"),
    "client_key_password": ("tls", "client_key_password_env"),
    "jws_signing_key_password": ("jws", "hub_signing_key_password_env"),
}


@dataclass(frozen=True)
class Params:
    """Validated params of one environment. Secrets are never held: only the names of their env vars."""

    hub: HubParams
    services: ServicesParams
    sim: SimParams
    fsps: FspsParams
    currencies: tuple[str, ...]
    provisioning: ProvisioningParams
    api: ApiParams
    deployment: DeploymentParams
    timeouts: TimeoutsParams
    tls: TlsParams
    auth: AuthParams
    jws: JwsParams

    @property
    def currency(self) -> str:
        """The main currency (the first listed)."""
        return self.currencies[0]

    def public_dict(self) -> dict[str, Any]:
        """JSON-safe dict in the YAML's shape (Decimals as strings, tuples as lists). Safe to inject: it holds
        env var names, never their values. `params_from_dict` turns it back into `Params`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _jsonable(value)
        return out

    def secret(self, name: str) -> str | None:
        """Read a secret from the env var whose NAME is configured: "bearer_token" or "client_key_password".
        None when no env var is configured or it is unset/empty. Never cached, never stored."""
        if name not in _SECRETS:
            raise KeyError(f"unknown secret {name!r}; known: {', '.join(_SECRETS)}")
        section, key = _SECRETS[name]
        var = getattr(getattr(self, section), key)
        return (os.environ.get(var) or None) if var else None

    def secret_values(self) -> list[str]:
        """Every secret value currently set, so writers can make sure none leaks into outputs."""
        return [v for v in (self.secret(n) for n in _SECRETS) if v]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    return value


# ---------------------------------------------------------------- loading


def find_root(start: Path | None = None) -> Path:
    """The project root: $MOJACHECK_ROOT, else the nearest folder (from cwd up) holding `params/`.
    Walking up lets JupyterLab users whose cwd is `notebooks/` load the same files."""
    if env := os.environ.get("MOJACHECK_ROOT"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir():
            return folder
    raise ParamsError(f"no params/ folder in {here} or above (set MOJACHECK_ROOT to the project root)")


def load_params(env: str, *, overrides: Iterable[str] = (), root: Path | None = None) -> Params:
    """Read `params/{env}.yaml` under `root`, apply `key.path=value` overrides, validate."""
    root = (root or find_root()).resolve()
    path = root / "params" / f"{env}.yaml"
    source = f"params/{env}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / "params").glob("*.yaml"))
        raise ParamsError(f"{source}: no such file (known envs: {', '.join(known) or 'none'})", key=None)
    data = _read_yaml(path, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    overridden = {}
    for item in overrides:
        key = _apply_override(data, item)
        overridden[key] = item
    return params_from_dict(data, source=source, root=root, overridden=overridden)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML silently keeps the last one, so a
    second `hub:` block would replace the first without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str | int | float | bool) and key in seen:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first given on line {first})", key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, source: str) -> Any:
    """The YAML document; every way a file can be unreadable is one ParamsError line (file:line:col where the
    parser knows it)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{source}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                          "save the file as UTF-8") from None
    except OSError as exc:
        raise ParamsError(f"{source}: cannot be read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = str(exc.problem or exc.context)
        if exc.context and exc.problem and exc.context_mark is not None:
            what += f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        raise ParamsError(f"{where}: {what}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None


def params_from_dict(
    data: Mapping[str, Any], *, source: str = "params", root: Path | None = None,
    overridden: Mapping[str, str] | None = None,
) -> Params:
    """Validate a params mapping (a YAML document or `Params.public_dict()`) into `Params`.
    Relative paths resolve against `root` (default: the project root, or cwd when there is none)."""
    if root is None:
        try:
            root = find_root()
        except ParamsError:
            root = Path.cwd()
    ctx = _Ctx(source=source, root=root, overridden=dict(overridden or {}))
    _reject_unknown(data, {**SCHEMA, **TOP_LEVEL}, "", ctx)
    sections: dict[str, Any] = {}
    for name, schema in SCHEMA.items():
        raw = data.get(name, {})
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            ctx.fail(name, f"expected a mapping, got {_show(raw)}")
        _reject_unknown(raw, schema, f"{name}.", ctx)
        values = {key: _leaf(raw, key, f, f"{name}.{key}", ctx) for key, f in schema.items()}
        sections[name] = _SECTION_TYPES[name](**values)
    currencies = _leaf(data, "currencies", TOP_LEVEL["currencies"], "currencies", ctx)
    params = Params(currencies=currencies, **sections)
    _check_versions(params, ctx)
    _check_embedded(params, ctx)
    _check_fsps(params, ctx)
    return params


@dataclass(frozen=True)
class _Ctx:
    source: str
    root: Path
    overridden: dict[str, str]

    def fail(self, key: str, message: str) -> None:
        origin = self.source
        if key in self.overridden:
            origin = f"{self.source} (--set {self.overridden[key]})"
        raise ParamsError(f"{origin}: {key}: {message}", key=key)


def _apply_override(data: dict[str, Any], item: str) -> str:
    """`hub.release=13` → data["hub"]["release"] = 13 (the value parsed as a YAML scalar/flow)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ParamsError(f"--set {item}: expected key.path=value", key=key or None)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ParamsError(f"--set {item}: value is not valid YAML: {exc}", key=key) from exc
    node = data
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ParamsError(f"--set {item}: {'.'.join(parts[: depth + 1])} is not a mapping", key=key)
        node = child
    node[parts[-1]] = value
    return key


def _reject_unknown(raw: Mapping[str, Any], schema: Mapping[str, Any], prefix: str, ctx: _Ctx) -> None:
    for key in raw:
        if key not in schema:
            known = ", ".join(schema)
            ctx.fail(f"{prefix}{key}", f"unknown key (expected one of: {known})")


def _leaf(raw: Mapping[str, Any], key: str, f: Field, path: str, ctx: _Ctx) -> Any:
    if key not in raw or raw[key] is None:
        if key in raw and f.nullable:
            return None
        if f.required:
            what = "an http(s) URL" if f.kind == "url" else _expected(f)
            ctx.fail(path, f"missing (expected {what})")
        if f.default is None:
            return None
        value = f.default() if callable(f.default) else f.default
    else:
        value = raw[key]
    return _coerce(value, f, path, ctx)


def _expected(f: Field) -> str:
    if f.choices:
        return "one of " + ", ".join(f.choices)
    return {
        "str": "a string", "bool": "true or false", "port": "a port number (1-65535)",
        "number": "a positive, finite number", "url": "an http(s) URL with a valid host and port",
        "decimal": 'a decimal amount as a string, e.g. "1000"',
        "path": "a file path", "version": 'an API version "major.minor", e.g. "1.1"',
        "envname": "an environment variable NAME, e.g. MOJACHECK_BEARER_TOKEN",
        "str_list": f"a list of at least {f.min_items} strings",
        "version_list": 'a list of API versions, e.g. ["1.0", "1.1"], or null',
        "version_map": 'a mapping of resource to API version, e.g. {transfers: "1.1", quotes: "1.0"}, or null',
    }[f.kind]


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)


def _coerce(value: Any, f: Field, path: str, ctx: _Ctx) -> Any:
    coerced = _COERCERS[f.kind](value, f, ctx.root)
    if coerced is _BAD:
        ctx.fail(path, f"expected {_expected(f)}, got {_show(value)}")
    if f.choices and coerced not in f.choices:
        ctx.fail(path, f"expected {_expected(f)}, got {coerced!r}")
    return coerced


_BAD = object()


def _as_str(value: Any, f: Field, root: Path) -> Any:
    # Ints are accepted where the YAML author naturally writes a number for a string (release: 17).
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, int) and f.choices:
        return str(value)
    return value if isinstance(value, str) and value.strip() else _BAD


def _as_bool(value: Any, f: Field, root: Path) -> Any:
    return value if isinstance(value, bool) else _BAD


def _as_port(value: Any, f: Field, root: Path) -> Any:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    return value if ok else _BAD


def _as_number(value: Any, f: Field, root: Path) -> Any:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    return float(value) if ok else _BAD


def _as_url(value: Any, f: Field, root: Path) -> Any:
    if not isinstance(value, str):
        return _BAD
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:  # e.g. "http://[::1" (unclosed IPv6 bracket), "http://h:99999"
        return _BAD
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _BAD
    return value.strip().rstrip("/")  # notebooks append paths to base URLs


def _as_decimal(value: Any, f: Field, root: Path) -> Any:
    # Money is never float: 0.1 in YAML is a float and would silently change the amount.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return _BAD
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return _BAD
    return amount if amount.is_finite() and amount >= 0 else _BAD


def _as_path(value: Any, f: Field, root: Path) -> Any:
    if not isinstance(value, str) or not value.strip():
        return _BAD
    # Absolute, so the kernel (whose cwd is notebooks/) and the hub subprocess see the same file.
    return str((root / Path(value).expanduser()).resolve())


def _as_version(value: Any, f: Field, root: Path) -> Any:
    text = repr(value) if isinstance(value, float) else value  # YAML reads 1.1 as a float
    return text if isinstance(text, str) and _VERSION.match(text) else _BAD


def _as_envname(value: Any, f: Field, root: Path) -> Any:
    return value if isinstance(value, str) and _ENV_NAME.match(value) else _BAD


def _as_str_list(value: Any, f: Field, root: Path) -> Any:
    if not isinstance(value, list) or len(value) < f.min_items:
        return _BAD
    if not all(isinstance(v, str) and v.strip() for v in value):
        return _BAD
    return tuple(value)


def _as_version_list(value: Any, f: Field, root: Path) -> Any:
    if not isinstance(value, list) or not value:
        return _BAD
    versions = [_as_version(v, f, root) for v in value]
    return _BAD if _BAD in versions else tuple(versions)


def _as_version_map(value: Any, f: Field, root: Path) -> Any:
    if not isinstance(value, dict) or not value:
        return _BAD
    out = {}
    for resource, version in value.items():
        coerced = _as_version(version, f, root)
        if not isinstance(resource, str) or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", resource) or coerced is _BAD:
            return _BAD
        out[resource] = coerced
    return out


_COERCERS = {
    "str": _as_str, "bool": _as_bool, "port": _as_port, "number": _as_number, "url": _as_url,
    "decimal": _as_decimal, "path": _as_path, "version": _as_version, "envname": _as_envname,
    "str_list": _as_str_list, "version_list": _as_version_list, "version_map": _as_version_map,
}


def _check_fsps(params: Params, ctx: _Ctx) -> None:
    """The FXP converts between the payer and a payee: it must be a participant of its own."""
    if params.fsps.fxp in (params.fsps.payer, *params.fsps.payees):
        ctx.fail("fsps.fxp", f"must differ from fsps.payer and fsps.payees, got {params.fsps.fxp!r}")


_RELEASE_VERSIONS = {"13": ("1.0", "1.1"), "14": ("1.0", "1.1"), "17": ("1.0", "1.1", "2.0")}


def _check_versions(params: Params, ctx: _Ctx) -> None:
    """The hub cannot speak a version it does not accept (its own FSPs could not answer in it)."""
    accepted = params.deployment.supported_versions or _RELEASE_VERSIONS[params.hub.release]
    if params.hub.content_version not in accepted:
        ctx.fail("hub.content_version", f"{params.hub.content_version} is not among the versions the hub accepts "
                                        f"({', '.join(accepted)}); set deployment.supported_versions too")
    for resource, version in (params.hub.resource_versions or {}).items():
        if version not in accepted:
            ctx.fail("hub.resource_versions", f"{resource}: {version} is not among the versions the hub accepts "
                                              f"({', '.join(accepted)})")


def _check_embedded(params: Params, ctx: _Ctx) -> None:
    """An embedded service listens on loopback at its port; URLs pointing elsewhere would test nothing."""
    if params.hub.embedded:
        for f in fields(params.services):
            url = getattr(params.services, f.name)
            _expect_local(url, params.hub.port, f"services.{f.name}", "hub", ctx)
    if params.sim.embedded:
        _expect_local(params.sim.url, params.sim.port, "sim.url", "sim", ctx)
    for key in ("ca_file", "client_cert", "client_key"):
        file = getattr(params.tls, key)
        if file is not None and not Path(file).is_file():
            ctx.fail(f"tls.{key}", f"file not found: {file}")
    for key in ("hub_signing_key", "hub_public_key"):
        file = getattr(params.jws, key)
        if file is not None and not Path(file).is_file():
            ctx.fail(f"jws.{key}", f"file not found: {file}")
    if params.jws.fsp_keys_dir is not None and not Path(params.jws.fsp_keys_dir).is_dir():
        ctx.fail("jws.fsp_keys_dir", f"folder not found: {params.jws.fsp_keys_dir}")
    if (params.tls.client_cert is None) != (params.tls.client_key is None):
        ctx.fail("tls.client_key", "client_cert and client_key go together (set both or neither)")


def _expect_local(url: str, port: int, key: str, section: str, ctx: _Ctx) -> None:
    parts = urlsplit(url)
    if parts.hostname not in _LOOPBACK or parts.port != port:
        ctx.fail(key, f"{section}.embedded is true, so expected a URL on 127.0.0.1:{port}, got {url!r}")
