"""What differs between the Mojaloop releases the hub emulates (behaviour reference §3, §9, §16)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mojacheck.fspiop import SUPPORTED_VERSIONS


@dataclass(frozen=True)
class Release:
    """One emulated helm release.

    ``liquidity_split``: helm v14 split the single NDC check (4001) into a liquidity check (4001) followed by
    an NDC check (4200). ``hub_name``: the ``FSPIOP-Source`` of the messages the hub makes itself, ``switch`` up
    to helm v16 (central-services-shared's ``Headers.FSPIOP.SWITCH``), the configurable ``HUB_PARTICIPANT.NAME``
    (default ``Hub``) since helm v17. The content version of those messages is a deployment setting
    (``HubConfig.content_version``), not a release property. ``expired_get_error``: before helm v15
    central-ledger answered a GET (or a duplicate POST) of a transfer that had expired while RESERVED with
    ``PUT /transfers/{ID}/error`` 3303 instead of ``PUT`` with ``ABORTED``
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
    hub_name: str
    liquidity_split: bool
    expired_get_error: bool = False
    fx: bool = False
    # A COMMITTED/RESERVED fulfil without fulfilment: central-ledger v19.14 (helm 17.1) aborts it as an invalid
    # fulfilment (3100); before, it skipped the check and committed.
    missing_fulfilment_invalid: bool = True
    # central-ledger v19.9.1: an unknown participant on the admin API is 400/3200 "participant not found" (was
    # 500/2001 "Participant does not exist").
    participant_not_found_3200: bool = True
    # account-lookup-service v17.16: GET /parties and POST /participants/{Type}/{ID} from an FSPIOP-Source that is no
    # participant are refused at once (before: accepted, then silently dropped).
    als_source_check: bool = True
    # account-lookup-service since its inter-scheme work (v17): lookups that find nothing fall back to proxy
    # discovery, so their texts name it, and an unknown FSPIOP-Destination deletes the party's oracle entry.
    als_interscheme: bool = True
    # Validation of FSPs' JWS by the hub (JWS_VALIDATE): ml-api-adapter v16.10, account-lookup-service v17.16,
    # quoting-service after v17.15; before, only FSPs validated signatures.
    jws_validation: bool = True
    trs_versions: tuple[str, ...] = ("1.0", "1.1")
    trs_missing_endpoint_code: str = "1001"
    bulk_legacy: bool = False
    components: dict[str, str] = field(default_factory=dict)


# Component versions of each helm release (the helm changelogs' "Application versions"); release 17 follows the
# newest components of the v17 line, whose sources the hub was checked against. They tell a reader which Mojaloop
# behaviour the hub imitates, and are the versionNumber of its health answers.
_COMPONENTS: dict[str, dict[str, str]] = {
    "13": {"helm": "13.1", "central-ledger": "13.16.1", "ml-api-adapter": "13.0.0",
           "account-lookup-service": "13.0.0", "quoting-service": "14.0.0", "central-settlement": "13.4.1",
           "transaction-requests-service": "13.0.0", "bulk-api-adapter": "13.0.1"},
    "14": {"helm": "14.0", "central-ledger": "15.1.2", "ml-api-adapter": "14.0.0",
           "account-lookup-service": "14.0.0", "quoting-service": "15.0.2", "central-settlement": "14.0.0",
           "transaction-requests-service": "14.0.1", "bulk-api-adapter": "14.0.0"},
    "17": {"helm": "17.1", "central-ledger": "19.14.0", "ml-api-adapter": "16.10.1",
           "account-lookup-service": "17.16.1", "quoting-service": "17.15.0", "central-settlement": "17.3.4",
           "transaction-requests-service": "14.4.5", "bulk-api-adapter": "17.2.2"},
}


def get_release(name: str, supported: tuple[str, ...] | None = None) -> Release:
    """The release called ``name`` ("13", "14" or "17"); ValueError for anything else.

    ``supported`` replaces the release's accepted FSPIOP versions (a deployment that narrows or widens
    ``PROTOCOL_VERSIONS.CONTENT.VALIDATELIST``).
    """
    if name not in _COMPONENTS:
        raise ValueError(f"unsupported release {name!r}; expected one of {sorted(_COMPONENTS)}")
    versions = tuple(SUPPORTED_VERSIONS[name])
    if supported:
        versions = tuple(version(v) for v in supported)
    return Release(
        name=name,
        supported=versions,
        hub_name="Hub" if name == "17" else "switch",
        liquidity_split=name != "13",
        expired_get_error=name in ("13", "14"),
        fx=name == "17",
        missing_fulfilment_invalid=name == "17",
        participant_not_found_3200=name == "17",
        als_source_check=name == "17",
        als_interscheme=name == "17",
        jws_validation=name == "17",
        trs_missing_endpoint_code="1001" if name == "17" else "2001",
        bulk_legacy=name in ("13", "14"),
        components=dict(_COMPONENTS[name]),
    )


def version(text: str) -> str:
    """"1.1" stays, "2" becomes "2.0"; anything else is a ValueError."""
    major, _, minor = str(text).strip().partition(".")
    if not major.isdigit() or not (minor or "0").isdigit():
        raise ValueError(f"not an FSPIOP version (major.minor): {text!r}")
    return f"{int(major)}.{int(minor or 0)}"
