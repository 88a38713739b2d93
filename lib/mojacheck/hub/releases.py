"""What differs between the Mojaloop releases the hub emulates (behaviour reference §3, §9, §16)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mojacheck.fspiop import SUPPORTED_VERSIONS


@dataclass(frozen=True)
class Release:
    """One emulated helm release.

    ``liquidity_split``: helm v14 split the single NDC check (4001) into a liquidity check (4001) followed by
    an NDC check (4200). ``default_version``: the Content-Type version of hub-generated messages.
    ``expired_get_error``: before helm v15 central-ledger answered a GET (or a duplicate POST) of a transfer that
    had expired while RESERVED with ``PUT /transfers/{ID}/error`` 3303 instead of ``PUT`` with ``ABORTED``
    (mojaloop/project#3078, fixed in central-ledger PR #938, shipped with helm v15).
    ``fx``: currency conversion (``/fxQuotes``, ``/fxTransfers``, the FXP's positions) exists from helm v17
    (ml-api-adapter 15, quoting-service 16, central-ledger 18); before, those routes answer 404/3002.

    ``trs_versions``: transaction-requests-service accepts FSPIOP 1.0 and 1.1 in every release (never 2.0).
    ``trs_missing_endpoint_code``: what it tells the sender when the destination has no callback endpoint: 2001
    ("Invalid template!", Mustache rendering nothing) with central-services-shared < 18.28 (helm 13, 14, 17.0),
    1001 since (helm 17.1). ``bulk_legacy``: bulk-api-adapter ≤ 14.0 and central-ledger ≤ 15 (helm 13, 14.0):
    the payee's POST and the payer's result keep the FSPs' own headers, a bulk failing validation is stored
    INVALID without a callback, an identical duplicate POST is ignored, GET answers internal state names (a
    REJECTED bulk with PUT …/error), the payee's PUT is answered 202 after a synchronous completedTimestamp check,
    and its FSPIOP-Destination must be the payer (central-ledger v15 vs v16, bulk-api-adapter
v14.0 vs v14.2: helm release notes 14.1.0 and 14.1.1).
    """

    name: str
    supported: tuple[str, ...]
    default_version: str
    liquidity_split: bool
    expired_get_error: bool = False
    fx: bool = False
    trs_versions: tuple[str, ...] = ("1.0", "1.1")
    trs_missing_endpoint_code: str = "1001"
    bulk_legacy: bool = False
    components: dict[str, str] = field(default_factory=dict)


# Component versions are the ones the behaviour reference names for each release (majors where it gives
# only majors); they tell a reader which Mojaloop behaviour the hub imitates, nothing more.
_COMPONENTS: dict[str, dict[str, str]] = {
    "13": {"helm": "13.x", "central-ledger": "13.16", "ml-api-adapter": "13.x",
           "account-lookup-service": "12.x", "quoting-service": "13.x", "central-settlement": "13.x",
           "transaction-requests-service": "13.0.0", "bulk-api-adapter": "13.0.1"},
    "14": {"helm": "14.0", "central-ledger": "15.x", "ml-api-adapter": "14.x",
           "account-lookup-service": "13.x", "quoting-service": "14.x", "central-settlement": "14.x",
           "transaction-requests-service": "14.0.1", "bulk-api-adapter": "14.0.0"},
    "17": {"helm": "17.1", "central-ledger": "19.14.0", "ml-api-adapter": "16.10.1",
           "account-lookup-service": "17.x", "quoting-service": "17.x", "central-settlement": "17.3.4",
           "transaction-requests-service": "14.4.5", "bulk-api-adapter": "17.2.2"},
}

SERVICES = (
    "account-lookup-service",
    "account-lookup-service-admin",
    "quoting-service",
    "ml-api-adapter",
    "central-ledger-admin",
    "transaction-requests-service",
    "bulk-api-adapter",
)


def get_release(name: str, supported: tuple[str, ...] | None = None) -> Release:
    """The release called ``name`` ("13", "14" or "17"); ValueError for anything else.

    ``supported`` replaces the release's accepted FSPIOP versions (a deployment that narrows
    ``PROTOCOL_VERSIONS``); hub-generated messages then use the release default if still accepted, else the
    highest accepted version.
    """
    if name not in _COMPONENTS:
        raise ValueError(f"unsupported release {name!r}; expected one of {sorted(_COMPONENTS)}")
    default_version = "2.0" if name == "17" else "1.1"
    versions = tuple(SUPPORTED_VERSIONS[name])
    if supported:
        versions = tuple(_version(v) for v in supported)
        if default_version not in versions:
            default_version = max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
    return Release(
        name=name,
        supported=versions,
        default_version=default_version,
        liquidity_split=name != "13",
        expired_get_error=name in ("13", "14"),
        fx=name == "17",
        trs_missing_endpoint_code="1001" if name == "17" else "2001",
        bulk_legacy=name in ("13", "14"),
        components=dict(_COMPONENTS[name]),
    )


def _version(text: str) -> str:
    """"1.1" stays, "2" becomes "2.0"; anything else is a ValueError."""
    major, _, minor = str(text).strip().partition(".")
    if not major.isdigit() or not (minor or "0").isdigit():
        raise ValueError(f"not an FSPIOP version (major.minor): {text!r}")
    return f"{int(major)}.{int(minor or 0)}"
