"""What a hub of a given Mojaloop release is expected to answer, in one table keyed by release.

Notebooks never branch on the release in their cells: they ask `expectations_for(params)` and assert what it
says, and a check that asserts a release-dependent value names its table entry (`expectation=` key), so a run
comparison can tell an expected difference between releases from a regression.
Sources (public): the versions each release accepts, each service's config PROTOCOL_VERSIONS (mojaloop/ml-api-adapter
config/default.json: 2.0 from v16, i.e. helm v17) as checked by npm @mojaloop/central-services-shared
headerValidation; liquidity and NDC, mojaloop/central-ledger domain/position/prepare.js (the split into 4001/4200
came with central-ledger v15, helm v14); release changes, mojaloop/helm `.changelog/release-vX.md`; central-ledger
for the GET of an expired transfer (mojaloop/project#3078) and the prepare validation of unknown participants.
FX: ml-api-adapter v15.0.0, quoting-service v16.0.0, central-ledger v18.0.0, first shipped together in helm v17; no
service answers GET /services/FXP (mojaloop/project#3783, #4091).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from mojacheck.evidence.prose import prose
from mojacheck.fspiop.headers import LIBRARY_DEFAULT_VERSIONS, RESOURCE_MIN_VERSIONS

RELEASES = ("13", "14", "17")


@dataclass(frozen=True)
class Expectations:
    release: str
    # Payer over its net debit cap: one check against the NDC before helm v14; v14 split it (NDC → 4200).
    ndc_exceeded_code: str
    # Payer with no settlement funds (under its NDC): v14's liquidity check answers 4001; before, no check.
    unfunded_payer_code: str | None
    # FSPIOP versions accepted in Content-Type (and Accept): 2.0 from helm v17.
    supported_versions: tuple[str, ...]
    # Content-Type version of messages the hub itself originates: a deployment setting (hub.content_version,
    # PROTOCOL_VERSIONS.CONTENT.DEFAULT), not a release property; 1.1 in Mojaloop's reference deployments.
    hub_content_version: str
    # A payee PUT with transferState RESERVED is answered by a PATCH /transfers (FSPIOP 1.1 commit notification).
    reserved_patch: bool
    on_us_transfers: bool
    # GET /transfers/{ID} of a transfer that expired while RESERVED: before helm v15 central-ledger answered with
    # PUT …/error 3303; since (mojaloop/project#3078) with PUT transferState ABORTED.
    expired_transfer_get: str = "ABORTED"
    # POST /transfers naming a payee FSP the hub does not know: central-ledger's prepare validation, 3100
    # "Participant X not found". (A v17 central-ledger with its inter-scheme proxy cache on answers 3200 instead.)
    unknown_payee_transfer_code: str = "3100"
    # FX (FSPIOP 2.0 /fxQuotes, /fxTransfers, FXPs holding positions in two currencies): from helm v17 (ml-api-adapter
    # 15, quoting-service 16, central-ledger 18); before, the routes do not exist (404/3002).
    fx_available: bool = False
    # How a payer finds the FXP: "params" (fsps.fxp: no Mojaloop v17 service answers GET /services/FXP,
    # mojaloop/project#3783), "services" (the embedded hub's extension answers it); none without FX.
    fxp_discovery: str | None = None
    # FSPIOP-Source of the messages the hub makes itself: "switch" up to helm v16, HUB_PARTICIPANT.NAME ("Hub")
    # from v17 (central-services-shared "parameterize switch id").
    hub_name: str = "Hub"
    # A COMMITTED fulfil without fulfilment: central-ledger v19.14 aborts it as an invalid fulfilment (3100);
    # before, the check was skipped and the transfer committed.
    missing_fulfilment: str = "3100"
    # ml-api-adapter SEND_TRANSFER_CONFIRMATION_TO_PAYEE (deployment flag): the payee also hears the commit and
    # the aborts its answer caused.
    transfer_confirmation_to_payee: bool = False
    # quoting-service SIMPLE_ROUTING_MODE (deployment flag, on by default and in helm): a modified resend of a
    # quote is forwarded like any other; with it off it is 3106.
    quotes_simple_routing: bool = True
    # GET /parties from an FSPIOP-Source that is no participant (e.g. "{fspId}"): account-lookup-service v17.16
    # refuses it at once with 3101 "invalid fspiop-source header"; before, it accepted it (202) and dropped it.
    unknown_source_lookup: str = "3101"
    # An unknown participant on central-ledger's admin API (positions, accounts, limits, funds): 400/3200
    # "participant not found" since central-ledger v19.9.1, 500/2001 "Participant does not exist" before.
    unknown_participant_code: str = "3200"
    # The hub refuses a request whose FSPIOP-Signature does not verify (3105): JWS validation exists from helm v17
    # (ml-api-adapter v16.10); applied to a run, it is on only where the deployment turns it on (jws.validate).
    signature_validation: bool = False
    # Per-resource versions of hub-made messages where the deployment sets them (hub.resource_versions).
    resource_versions: tuple[tuple[str, str], ...] = ()
    # transaction-requests-service accepts FSPIOP 1.0 and 1.1 in every release, 2.0 never (its own setting).
    transaction_request_versions: tuple[str, ...] = ("1.0", "1.1")
    # A transaction request or authorization whose destination has no callback endpoint: 2001 "Invalid template!"
    # before central-services-shared 18.28 (helm 13, 14, 17.0), 1001 "no … endpoint for DFSP x" since (helm 17.1).
    transaction_request_no_endpoint_code: str = "1001"
    # Who sends the payee's POST /bulkTransfers and the payer's bulk result: the hub from helm 14.1 (central-ledger
    # 16.3.1, bulk-api-adapter 14.2.0); before, the payer's request and the payee's answer with their own headers.
    bulk_prepare_source: str = "hub"
    bulk_result_source: str = "hub"
    # A bulk failing validation (unknown FSP, source not the payer …) is reported to the payer: from central-ledger
    # 16.0 (helm 14.1); before, it was stored INVALID and nobody was told.
    bulk_validation_callback: bool = True
    # An identical POST of a COMPLETED bulk is answered with its result again (central-ledger 16.1); before, ignored.
    bulk_duplicate_resend: bool = True
    # The synchronous answer to the payee's PUT /bulkTransfers/{ID}: 202 before bulk-api-adapter 14.1.1, then 200.
    bulk_fulfil_status: int = 200
    # A payee answering with a completedTimestamp in the future: central-ledger rejects the bulk (3100 to both)
    # since helm 14.1; before, bulk-api-adapter refused the PUT synchronously (HTTP 400) and the bulk expired (3303).
    bulk_future_timestamp_status: int = 200
    bulk_future_timestamp_outcome: str = "3100"
    # GET of a REJECTED bulk: PUT bulkTransferState REJECTED since helm 14.1; before, PUT …/error with the first
    # item's error ("error").
    bulk_rejected_get: str = "REJECTED"

    @property
    def liquidity_check(self) -> bool:
        """Whether the hub checks the payer's settlement funds at prepare (helm v14 on)."""
        return self.unfunded_payer_code is not None

    @property
    def on_us_result(self) -> str:
        """What a payer hears about a transfer to itself: COMMITTED when on-us transfers are enabled, else 3100."""
        return "COMMITTED" if self.on_us_transfers else "3100"

    @property
    def on_us_state(self) -> str:
        """The state a GET reports afterwards for that on-us transfer."""
        return "COMMITTED" if self.on_us_transfers else "ABORTED"

    def hub_version(self, resource: str) -> str:
        """The Content-Type version of a message the hub originates about `resource` ("transfers", "quotes"…)."""
        return dict(self.resource_versions).get(resource) or RESOURCE_MIN_VERSIONS.get(resource) \
            or LIBRARY_DEFAULT_VERSIONS.get(resource) or self.hub_content_version

    def accepts(self, version: str) -> bool:
        """Whether the hub accepts FSPIOP `version` ("2.0") in Content-Type."""
        return str(version) in self.supported_versions

    def rows(self) -> list[tuple[str, str, str]]:
        """(entry, value in words, what it means) for a notebook's table of the expectations it applied."""
        values = asdict(self)
        return [(name, prose(values[name], name), DESCRIPTIONS.get(name, "")) for name in values if name != "release"]


# What each entry means, as the end of a sentence its value completes ("payer over its net debit cap is told:
# 4200"); how a value reads (None as "no liquidity check", a code beside states as "3303 error") is
# evidence/prose.py's, which every report uses.
DESCRIPTIONS: dict[str, str] = {
    "ndc_exceeded_code": "payer over its net debit cap is told",
    "unfunded_payer_code": "payer without settlement funds (under its NDC) is told",
    "supported_versions": "FSPIOP versions accepted (Content-Type, Accept), listed in 3001's extensionList",
    "hub_content_version": "Content-Type version of messages the hub originates (a deployment setting)",
    "reserved_patch": "payee fulfilling with RESERVED gets PATCH COMMITTED",
    "on_us_transfers": "transfers with payer FSP = payee FSP allowed (deployment flag)",
    "expired_transfer_get": "GET of a transfer that expired while RESERVED answers",
    "unknown_payee_transfer_code": "POST /transfers to an unknown payee FSP is told",
    "fx_available": "FX becomes available: /fxQuotes, /fxTransfers and FXP positions (before: 404/3002)",
    "fxp_discovery": "how the payer finds the FXP: GET /services/FXP, or the FXP named in params",
    "hub_name": "the name the hub signs its own messages with (FSPIOP-Source)",
    "missing_fulfilment": "a payee committing without a fulfilment is answered",
    "transfer_confirmation_to_payee": "the payee also hears the commit and the abort (deployment flag)",
    "quotes_simple_routing": "quotes relayed without duplicate detection (deployment flag)",
    "signature_validation": "a request whose signature does not verify is refused with 3105",
    "unknown_source_lookup": "a party lookup from an FSP the hub does not know is answered",
    "unknown_participant_code": "the operator API answers a participant it does not know with",
    "resource_versions": "versions of hub-made messages per resource, where the deployment sets them",
    "transaction_request_versions": "FSPIOP versions /transactionRequests and /authorizations accept",
    "transaction_request_no_endpoint_code": "a transaction request to an FSP without endpoint: the sender is told",
    "bulk_prepare_source": "who sends the payee's POST /bulkTransfers (FSPIOP-Source)",
    "bulk_result_source": "who sends the payer's bulk result (FSPIOP-Source)",
    "bulk_validation_callback": "a bulk failing validation is reported to the payer",
    "bulk_duplicate_resend": "an identical POST of a completed bulk is answered with its result again",
    "bulk_fulfil_status": "sync status of the payee's PUT /bulkTransfers/{ID}",
    "bulk_future_timestamp_status": "sync status of a bulk answer with a future completedTimestamp",
    "bulk_future_timestamp_outcome": "what the payer then hears (3100 rejected, or 3303 once it expires)",
    "bulk_rejected_get": "GET of a REJECTED bulk answers (REJECTED, or the first item's error)",
}


_TABLE: dict[str, Expectations] = {
    "13": Expectations("13", ndc_exceeded_code="4001", unfunded_payer_code=None,
                       supported_versions=("1.0", "1.1"), hub_content_version="1.1", reserved_patch=True,
                       on_us_transfers=False, expired_transfer_get="3303", hub_name="switch",
                       missing_fulfilment="COMMITTED", unknown_source_lookup="202",
                       unknown_participant_code="2001", transaction_request_no_endpoint_code="2001",
                       bulk_prepare_source="payer", bulk_result_source="payee", bulk_validation_callback=False,
                       bulk_duplicate_resend=False, bulk_fulfil_status=202, bulk_future_timestamp_status=400,
                       bulk_future_timestamp_outcome="3303", bulk_rejected_get="error"),
    "14": Expectations("14", ndc_exceeded_code="4200", unfunded_payer_code="4001",
                       supported_versions=("1.0", "1.1"), hub_content_version="1.1", reserved_patch=True,
                       on_us_transfers=False, expired_transfer_get="3303", hub_name="switch",
                       missing_fulfilment="COMMITTED", unknown_source_lookup="202",
                       unknown_participant_code="2001", transaction_request_no_endpoint_code="2001",
                       bulk_prepare_source="payer", bulk_result_source="payee", bulk_validation_callback=False,
                       bulk_duplicate_resend=False, bulk_fulfil_status=202, bulk_future_timestamp_status=400,
                       bulk_future_timestamp_outcome="3303", bulk_rejected_get="error"),
    "17": Expectations("17", ndc_exceeded_code="4200", unfunded_payer_code="4001",
                       supported_versions=("1.0", "1.1", "2.0"), hub_content_version="1.1", reserved_patch=True,
                       on_us_transfers=False, fx_available=True, fxp_discovery="params", signature_validation=True),
}


def expectations_for(release: str, *, on_us_transfers: bool | None = None,
                     supported_versions: tuple[str, ...] | list[str] | None = None,
                     embedded: bool = False, content_version: str | None = None,
                     resource_versions: dict[str, str] | None = None,
                     transfer_confirmation_to_payee: bool | None = None,
                     quotes_simple_routing: bool | None = None,
                     signature_validation: bool | None = None) -> Expectations:
    """The table row for `release`, with the deployment settings the params make applied on top; `embedded` (the
    embedded hub) answers GET /services/FXP where a release has FX, as a documented extension."""
    try:
        row = _TABLE[str(release)]
    except KeyError:
        raise ValueError(f"no expectations for release {release!r}; known: {', '.join(RELEASES)}") from None
    if on_us_transfers is not None:
        row = replace(row, on_us_transfers=bool(on_us_transfers))
    if embedded and row.fx_available:
        row = replace(row, fxp_discovery="services")
    if supported_versions:
        row = replace(row, supported_versions=tuple(str(v) for v in supported_versions))
    if content_version:
        row = replace(row, hub_content_version=str(content_version))
    if resource_versions:
        row = replace(row, resource_versions=tuple(sorted((str(k), str(v)) for k, v in resource_versions.items())))
    if transfer_confirmation_to_payee is not None:
        row = replace(row, transfer_confirmation_to_payee=bool(transfer_confirmation_to_payee))
    if quotes_simple_routing is not None:
        row = replace(row, quotes_simple_routing=bool(quotes_simple_routing))
    if signature_validation is not None:  # on only where the release has it and the deployment turned it on
        row = replace(row, signature_validation=row.signature_validation and bool(signature_validation))
    return row


def from_params(params: dict[str, Any]) -> Expectations:
    """The row for the params' hub.release with the deployment settings they make applied."""
    deployment = params.get("deployment") or {}
    hub = params["hub"]
    return expectations_for(str(hub["release"]), on_us_transfers=deployment.get("on_us_transfers"),
                            supported_versions=deployment.get("supported_versions"),
                            embedded=bool(hub.get("embedded")), content_version=hub.get("content_version"),
                            resource_versions=hub.get("resource_versions"),
                            transfer_confirmation_to_payee=deployment.get("transfer_confirmation_to_payee"),
                            quotes_simple_routing=deployment.get("quotes_simple_routing"),
                            signature_validation=bool((params.get("jws") or {}).get("validate")))


def release_differences(release_a: str, release_b: str) -> dict[str, tuple[Any, Any]]:
    """Table entries whose value differs between two releases: the differences a comparison may expect."""
    a, b = asdict(expectations_for(release_a)), asdict(expectations_for(release_b))
    return {k: (a[k], b[k]) for k in a if k != "release" and a[k] != b[k]}
