"""FX steps (FSPIOP 2.0, Mojaloop from helm v17): who converts, the FXP's provisioning, its discovery, and the requests
of a payer-side conversion, each sent as the payer DFSP and answered by the simulator playing FXP and payee.

The flow (fx.md §0): lookup of the payee (its ``supportedCurrencies``) → the FXP → ``POST /fxQuotes`` (the FXP's
rate, fee and condition) → ``POST /quotes`` in the target currency (``transactionId`` = the conversion's
``determiningTransferId``) → ``POST /fxTransfers`` (the payer's source position reserved; the FXP fulfils) →
``POST /transfers`` with ``transferId`` = ``determiningTransferId`` (the FXP's target position reserved) → the payee
commits both (``PATCH /fxTransfers/{ID}`` to the FXP). Requests go out in FSPIOP 2.0, the only version that defines
FX, so the hub's FX callbacks are validated against the 2.0 definition. Checked flows are in ``fx_flows``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.admin import FSPIOP_ENDPOINTS, FX_ENDPOINTS, FXP_ENDPOINTS, endpoint_values
from mojacheck.clients.sim import Callback
from mojacheck.evidence.render import show_html
from mojacheck.fspiop import error_message, new_id
from mojacheck.fspiop.errors import NotReady, UnexpectedResponse
from mojacheck.steps.errors import sync_error, timestamp
from mojacheck.steps.p2p import Party, Quote, Transfer, expect_accepted, participant_of, register_party

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.expectations import Expectations
    from mojacheck.fspiop import Exchange

__all__ = [
    "FX_VERSION", "FxNet", "FxQuote", "FxTransfer", "Positions", "answer", "cancel_as_fxp", "check_answer",
    "check_fx_state", "check_provisioned", "check_routes", "dependent_body", "dependent_transfer", "discover_fxp",
    "ensure_fxp", "fx_net", "fx_quote", "fx_transfer", "fx_transfer_body", "get_fx_transfer", "lookup", "parse_time",
    "positions", "quote_in_target", "refuse_conversion_fields", "refused", "show_positions", "supported_currencies",
]

FX_VERSION = "2.0"  # FX exists only in FSPIOP 2.0; the SDK speaks fxQuotes/fxTransfers 2.0 by default


@dataclass(frozen=True)
class FxNet:
    """Who takes part in a conversion: the payer (source currency), the FXP (both), the payee (target currency),
    and the rate and fee the simulated FXP is set to (target units per source unit; fee in the source currency)."""

    payer: Party
    fxp: Party  # the FXP's own party: only needed to pay it directly, as before release 17
    payee: Party
    source: str
    target: str
    rate: Decimal
    fee: Decimal

    @property
    def fsps(self) -> list[str]:
        """Payer, FXP and payee FSP ids, in that order."""
        return [self.payer.fsp, self.fxp.fsp, self.payee.fsp]

    def fspiop_payee(self) -> dict[str, Any]:
        """The payee's FSPIOP ``Party`` with ``supportedCurrencies`` (FSPIOP 2.0): the currencies it receives."""
        return {**self.payee.fspiop_party(), "supportedCurrencies": [self.target]}


def fx_net(s: Session, rate: Decimal | str, fee: Decimal | str = "0", *, payer: Party | None = None,
           payee: Party | None = None) -> FxNet:
    """The conversion of this environment: the params' payer and first payee FSP, the FXP of ``fsps.fxp``, from the
    first currency to the second. NotReady when the params name fewer than two currencies."""
    currencies = list(dict.fromkeys(s.params["currencies"]))
    if len(currencies) < 2:
        raise NotReady(f"FX needs two currencies in params 'currencies', got {currencies}")
    fxp = str(s.params["fsps"]["fxp"])
    return FxNet(
        payer=payer or Party(s.params["fsps"]["payer"], "MSISDN", "27710101001", name="Amina Okafor",
                             first_name="Amina", last_name="Okafor"),
        fxp=Party(fxp, "MSISDN", "27710707001", name="Kwame Asante", first_name="Kwame", last_name="Asante"),
        payee=payee or Party(s.params["fsps"]["payees"][0], "MSISDN", "27710606001", name="Aïssatou Diop",
                             first_name="Aïssatou", last_name="Diop"),
        source=currencies[0], target=currencies[1], rate=Decimal(str(rate)), fee=Decimal(str(fee)))


# -- provisioning ------------------------------------------------------------------------------------------------
def ensure_fxp(s: Session, net: FxNet, exp: Expectations) -> list[str]:
    """Establish what conversions need, reading first and writing only what is missing (no checks): the FXP as an
    ordinary participant with accounts, NDC and funds in both currencies and its FSPIOP callback endpoints; where FX
    exists its FX endpoints and those of payer and payee (as the Testing Toolkit's FX provisioning registers them);
    the simulated FXP's rate; the parties of FXP and payee. Returns what it had to do, one line each."""
    prov, done = s.params["provisioning"], []
    base = s.params["sim"]["public_url"].rstrip("/")
    for currency in (net.source, net.target):
        if s.admin.ensure_participant(net.fxp.fsp, currency) != "existed":
            done.append(f"{net.fxp.fsp}: {currency} accounts")
        # The FXP's target position grows with every conversion until a settlement resets it: its cap and its
        # liquidity are kept the provisioning amounts *above* that position, so the notebook passes again.
        room = max(s.admin.position(net.fxp.fsp, currency), Decimal(0))
        cap = _at_least(s.admin.ndc(net.fxp.fsp, currency), Decimal(prov["ndc"]) + room)
        if s.admin.ensure_ndc(net.fxp.fsp, currency, cap) != "existed":
            done.append(f"{net.fxp.fsp}: {currency} net debit cap")
        if s.admin.ensure_funds(net.fxp.fsp, currency, Decimal(prov["funds_in"]) + room):
            done.append(f"{net.fxp.fsp}: {currency} funds")
    s.admin.ensure_active(net.fxp.fsp)
    tables = [(net.fxp.fsp, FSPIOP_ENDPOINTS)]
    if exp.fx_available:  # a hub before FX refuses the FX endpoint types
        tables += [(net.fxp.fsp, FXP_ENDPOINTS), (net.payer.fsp, FX_ENDPOINTS), (net.payee.fsp, FX_ENDPOINTS)]
    for fsp, table in tables:
        if written := s.admin.ensure_endpoints(fsp, f"{base}/{fsp}", table):
            done.append(f"{fsp}: {written} callback endpoints")
    s.sim.set_fx_rate(net.fxp.fsp, net.source, net.target, net.rate, net.fee)
    for party, body in ((net.fxp, net.fxp.fspiop_party()), (net.payee, net.fspiop_payee())):
        s.sim.add_party(party.fsp, body)  # the simulator forgets its parties when it restarts
        if participant_of(s, party.fsp, party).error:
            register_party(s, party, net.target)
            done.append(f"party {party.key} registered")
    return done


def _at_least(current: Decimal | None, wanted: Decimal) -> Decimal:
    return wanted if current is None else max(current, wanted)


def check_provisioned(s: Session, net: FxNet, exp: Expectations) -> None:
    """Check what ``ensure_fxp`` establishes: the FXP active with active POSITION accounts, NDC and funds in both
    currencies and its callback endpoints (FX ones, and the payer's, where FX exists), and the simulated FXP's rate."""
    prov, fxp = s.params["provisioning"], net.fxp.fsp
    s.check(f"{fxp} exists and is active", True, bool((s.admin.participant(fxp) or {}).get("isActive")))
    for currency in (net.source, net.target):
        s.check(f"{fxp} POSITION account in {currency} is active", True,
                bool(s.admin.account(fxp, "POSITION", currency).get("isActive")))
        room = s.admin.ndc(fxp, currency) or Decimal(0)
        position = s.admin.position(fxp, currency)
        s.check(f"{fxp} net debit cap in {currency} leaves ≥ {prov['ndc']} above its position", True,
                room - max(position, Decimal(0)) >= Decimal(prov["ndc"]))
        s.check(f"{fxp} funds in {currency} cover ≥ {prov['funds_in']} above its position", True,
                -s.admin.settlement_balance(fxp, currency) - max(position, Decimal(0)) >= Decimal(prov["funds_in"]))
    base = s.params["sim"]["public_url"].rstrip("/")
    tables = [(fxp, FSPIOP_ENDPOINTS, "FSPIOP callback endpoints", None)]
    if exp.fx_available:
        tables += [(fxp, FXP_ENDPOINTS, "FX endpoints of an FXP (prepare, fulfil and PATCH, errors, fxQuotes)",
                    "fx_available"),
                   *[(fsp, FX_ENDPOINTS, "FX endpoints of a DFSP (fxQuote answers, fulfil, errors)", "fx_available")
                     for fsp in (net.payer.fsp, net.payee.fsp)]]
    for fsp, table, what, expectation in tables:
        current, wanted = s.admin.endpoints(fsp), endpoint_values(f"{base}/{fsp}", table)
        s.check(f"{fsp}: {what} at the simulator", len(wanted),
                sum(1 for kind, value in wanted.items() if current.get(kind) == value), expectation=expectation)
    rates = {(r["source"], r["target"]): (Decimal(r["rate"]), Decimal(r["fee"])) for r in s.sim.fx_rates(fxp)}
    s.check(f"the simulated FXP converts {net.source} → {net.target} at {net.rate}, fee {net.fee} {net.source}",
            (net.rate, net.fee), rates.get((net.source, net.target)))


def check_routes(s: Session, net: FxNet, exp: Expectations) -> None:
    """Which FX routes the hub serves, asked with requests that change nothing (empty bodies, an unknown id): from
    release 17 they answer as Mojaloop's FX services do, before they are unknown (404/3002). Every check names
    ``fx_available`` (or ``fxp_discovery``), so a comparison across an upgrade sees FX arrive."""
    unknown = new_id()
    probes = [("POST", "quoting", "/fxQuotes", {}, "400 3102"),
              ("POST", "ml_api_adapter", "/fxTransfers", {}, "400 3102"),
              ("PUT", "ml_api_adapter", f"/fxTransfers/{unknown}", {}, "400 3102"),
              ("PATCH", "ml_api_adapter", f"/fxTransfers/{unknown}", None, "501 2002")]
    for method, service, path, body, served in probes:
        ex = s.fspiop(method, service, path, source=net.payer.fsp, destination=net.fxp.fsp, body=body,
                      version=FX_VERSION)
        expected = served if exp.fx_available else "404 3002"
        err = sync_error(ex)
        template = path.replace(unknown, "{ID}")
        s.check(f"{method} {template} with nothing to do is answered ({'FX' if exp.fx_available else 'no FX yet'})",
                expected, f"{err.status} {err.code}", error_code=expected.split()[1], expectation="fx_available")
        s.check(f"{method} {template} is a route of this hub", exp.fx_available, ex.status != 404,
                expectation="fx_available")
    mark = s.sim.mark()
    ex = s.fspiop("GET", "ml_api_adapter", f"/fxTransfers/{unknown}", source=net.payer.fsp, version=FX_VERSION)
    s.check("GET /fxTransfers/{ID} is accepted (202)", exp.fx_available, ex.status == 202, expectation="fx_available")
    if ex.status == 202:
        cb = s.await_callback(net.payer.fsp, "fxTransfers", unknown, after=mark)
        s.check("GET of an unknown conversion: 3208 " + error_message("3208"), "3208", cb.error_code,
                error_code="3208", expectation="fx_available")
    ex = s.fspiop("GET", "als", f"/services/FXP/{net.source}/{net.target}", source=net.payer.fsp,
                  version=FX_VERSION)
    s.check("GET /services/FXP is answered (202): FXP discovery by the hub", exp.fxp_discovery == "services",
            ex.status == 202, expectation="fxp_discovery")


# -- discovery -----------------------------------------------------------------------------------------------------
def discover_fxp(s: Session, net: FxNet, exp: Expectations) -> str:
    """The FXP to ask: through ``GET /services/FXP/{source}/{target}`` where the hub answers it (the embedded hub's
    extension), else the one the params name; either way checked to hold POSITION accounts in both currencies."""
    chosen = net.fxp.fsp
    if exp.fxp_discovery == "services":
        mark = s.sim.mark()
        path = f"/services/FXP/{net.source}/{net.target}"
        expect_accepted(s.fspiop("GET", "als", path, source=net.payer.fsp, version=FX_VERSION), f"GET {path}")
        cb = s.await_callback(net.payer.fsp, "services", f"FXP/{net.source}/{net.target}", after=mark)
        providers = list((cb.body or {}).get("providers") or [])
        print(f"providers of {net.source} → {net.target}: {', '.join(providers) or 'none'}")
        s.check("GET /services/FXP/{source}/{target} lists the FXP", True, net.fxp.fsp in providers,
                expectation="fxp_discovery")
        s.check("the payer is not offered to itself", False, net.payer.fsp in providers)
    else:
        print(f"The FXP is the one named in params (fsps.fxp = {chosen}): this hub has no FXP discovery.")
    held = {a["currency"] for a in s.admin.accounts(chosen) if a.get("ledgerAccountType") == "POSITION"
            and a.get("isActive")}
    s.check(f"the FXP holds active POSITION accounts in {net.source} and {net.target}", True,
            {net.source, net.target} <= held)
    return chosen


def lookup(s: Session, net: FxNet, party: Party | None = None) -> Callback:
    """GET /parties of the payee (default) as the payer, in FSPIOP 2.0 (where a party states its currencies)."""
    party = party or net.payee
    mark = s.sim.mark()
    ex = s.fspiop("GET", "als", f"/parties/{party.key}", source=net.payer.fsp, version=FX_VERSION)
    expect_accepted(ex, f"GET /parties/{party.key}")
    return s.await_callback(net.payer.fsp, "parties", party.key, after=mark)


def parse_time(text: str) -> datetime:
    """An FSPIOP date-time (ISO-8601 with Z) as an aware datetime, to compare with when a callback arrived."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def supported_currencies(cb: Callback) -> list[str]:
    """The ``supportedCurrencies`` a payee stated in its ``PUT /parties`` (FSPIOP 2.0); [] when none."""
    body = cb.body if isinstance(cb.body, dict) else {}
    return list((body.get("party") or {}).get("supportedCurrencies") or [])


# -- the requests of a conversion ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FxQuote:
    """A POST /fxQuotes sent and the callback the payer received (the FXP's terms, or an error)."""

    request: dict[str, Any]
    callback: Callback

    @property
    def terms(self) -> dict[str, Any]:
        """The FXP's conversionTerms; KeyError when it refused."""
        return self.callback.body["conversionTerms"]

    @property
    def source_amount(self) -> Decimal:
        """What the payer pays the FXP, in the source currency."""
        return Decimal(str(self.terms["sourceAmount"]["amount"]))

    @property
    def target_amount(self) -> Decimal:
        """What the FXP delivers, in the target currency."""
        return Decimal(str(self.terms["targetAmount"]["amount"]))

    @property
    def determining_transfer_id(self) -> str:
        """The id the dependent transfer (and the payee's quote's transactionId) must carry."""
        return str(self.request["conversionTerms"]["determiningTransferId"])


def fx_quote(s: Session, net: FxNet, amount: Decimal | str, *, amount_type: str = "SEND",
             determining_transfer_id: str | None = None, fxp: str | None = None) -> FxQuote:
    """POST /fxQuotes as the payer to the FXP: SEND fixes the source amount, RECEIVE the target amount; returns the
    PUT /fxQuotes (or /error) callback. conversionId is fresh; it becomes the fxTransfer's commitRequestId."""
    fixed, other = ("sourceAmount", "targetAmount") if amount_type == "SEND" else ("targetAmount", "sourceAmount")
    currency = {"sourceAmount": net.source, "targetAmount": net.target}
    terms = {
        "conversionId": new_id(), "determiningTransferId": determining_transfer_id or new_id(),
        "initiatingFsp": net.payer.fsp, "counterPartyFsp": fxp or net.fxp.fsp, "amountType": amount_type,
        fixed: {"currency": currency[fixed], "amount": str(amount)}, other: {"currency": currency[other]},
        "expiration": timestamp(60),
    }
    body = {"conversionRequestId": new_id(), "conversionTerms": terms}
    mark = s.sim.mark()
    ex = s.fspiop("POST", "quoting", "/fxQuotes", source=net.payer.fsp, destination=fxp or net.fxp.fsp, body=body,
                  version=FX_VERSION)
    expect_accepted(ex, "POST /fxQuotes")
    return FxQuote(body, s.await_callback(net.payer.fsp, "fxQuotes", body["conversionRequestId"], after=mark))


def quote_in_target(s: Session, net: FxNet, amount: Decimal | str, transaction_id: str, *,
                    amount_type: str = "SEND", payee: Party | None = None) -> Quote:
    """POST /quotes in the target currency with ``transactionId`` = the conversion's determining transfer, and no
    ``converter``/``currencyConversion`` (quoting-service v17 refuses them); returns the quote with its callback."""
    payee = payee or net.payee
    body = {
        "quoteId": new_id(), "transactionId": transaction_id,
        "payee": {"partyIdInfo": payee.id_info()}, "payer": {"partyIdInfo": net.payer.id_info()},
        "amountType": amount_type, "amount": {"amount": str(amount), "currency": net.target},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    }
    mark = s.sim.mark()
    ex = s.fspiop("POST", "quoting", "/quotes", source=net.payer.fsp, destination=payee.fsp, body=body,
                  version=FX_VERSION)
    expect_accepted(ex, "POST /quotes")
    return Quote(body, s.await_callback(net.payer.fsp, "quotes", body["quoteId"], after=mark), net.payer, payee)


@dataclass(frozen=True)
class FxTransfer:
    """A POST /fxTransfers sent and the callback the payer received (the FXP's fulfil, or an error)."""

    request: dict[str, Any]
    callback: Callback

    @property
    def commit_request_id(self) -> str:
        """The conversion's id."""
        return str(self.request["commitRequestId"])

    @property
    def state(self) -> str | None:
        """The callback's conversionState; None when it is an error."""
        return None if self.callback.error else (self.callback.body or {}).get("conversionState")


def fx_transfer_body(q: FxQuote, *, expires_in_s: float = 60) -> dict[str, Any]:
    """The POST /fxTransfers body for an accepted fxQuote: commitRequestId = conversionId, the quoted amounts and
    condition (not sent yet)."""
    terms = q.terms
    return {
        "commitRequestId": terms["conversionId"], "determiningTransferId": terms["determiningTransferId"],
        "initiatingFsp": terms["initiatingFsp"], "counterPartyFsp": terms["counterPartyFsp"],
        "amountType": terms["amountType"], "sourceAmount": dict(terms["sourceAmount"]),
        "targetAmount": dict(terms["targetAmount"]), "condition": q.callback.body["condition"],
        "expiration": timestamp(expires_in_s),
    }


def fx_transfer(s: Session, body: dict[str, Any], *, timeout: float | None = None) -> FxTransfer:
    """POST /fxTransfers as the payer; returns the PUT /fxTransfers (or /error) callback the payer receives."""
    mark = s.sim.mark()
    ex = s.fspiop("POST", "ml_api_adapter", "/fxTransfers", source=body["initiatingFsp"],
                  destination=body["counterPartyFsp"], body=body, version=FX_VERSION)
    expect_accepted(ex, "POST /fxTransfers")
    cb = s.await_callback(body["initiatingFsp"], "fxTransfers", body["commitRequestId"], after=mark, timeout=timeout)
    return FxTransfer(body, cb)


def dependent_body(q: Quote, transfer_id: str, *, expires_in_s: float = 60) -> dict[str, Any]:
    """The POST /transfers body of the transfer a conversion depends on: ``transferId`` = the determining
    transfer, the payee's quote's amount, packet and condition (not sent yet)."""
    return {
        "transferId": transfer_id, "payerFsp": q.payer.fsp, "payeeFsp": q.payee.fsp,
        "amount": dict(q.transfer_amount), "ilpPacket": q.callback.body["ilpPacket"],
        "condition": q.callback.body["condition"], "expiration": timestamp(expires_in_s),
    }


def dependent_transfer(s: Session, body: dict[str, Any], *, timeout: float | None = None) -> Transfer:
    """POST /transfers (FSPIOP 2.0) as the payer; returns the final PUT /transfers (or /error) to the payer."""
    mark = s.sim.mark()
    ex = s.fspiop("POST", "ml_api_adapter", "/transfers", source=body["payerFsp"], destination=body["payeeFsp"],
                  body=body, version=FX_VERSION)
    expect_accepted(ex, "POST /transfers")
    cb = s.await_callback(body["payerFsp"], "transfers", body["transferId"], after=mark, timeout=timeout)
    return Transfer(body, cb)


def get_fx_transfer(s: Session, requester: str, commit_request_id: str) -> Callback:
    """GET /fxTransfers/{ID} as ``requester``; returns the hub's answer (PUT /fxTransfers/{ID} or its /error)."""
    mark = s.sim.mark()
    ex = s.fspiop("GET", "ml_api_adapter", f"/fxTransfers/{commit_request_id}", source=requester, version=FX_VERSION)
    expect_accepted(ex, "GET /fxTransfers")
    return s.await_callback(requester, "fxTransfers", commit_request_id, after=mark)


# -- positions ------------------------------------------------------------------------------------------------------
Positions = dict[tuple[str, str], Decimal]


def positions(s: Session, net: FxNet) -> Positions:
    """The POSITION of payer, FXP and payee in both currencies, keyed (fsp, currency)."""
    return {(fsp, cur): s.admin.position(fsp, cur) for fsp in net.fsps for cur in (net.source, net.target)}


def show_positions(net: FxNet, before: Positions, after: Positions, title: str = "Positions") -> None:
    """A table of every position before and after, and the change, to the last decimal."""
    rows = [(fsp, cur, before[(fsp, cur)], after[(fsp, cur)]) for fsp in net.fsps for cur in (net.source, net.target)]
    cells = "".join(f"<tr><td>{html.escape(f)}</td><td>{c}</td><td>{b:f}</td><td>{a:f}</td><td>{a - b:+f}</td></tr>"
                    for f, c, b, a in rows)
    text = "\n".join(f"{f:>16} {c}: {b:f} → {a:f} ({a - b:+f})" for f, c, b, a in rows)
    show_html(f"<h4>{html.escape(title)}</h4><table><tr><th>participant</th><th>currency</th><th>before</th>"
              f"<th>after</th><th>change</th></tr>{cells}</table>", f"{title}\n{text}")


def refused(s: Session, what: str, ex: Exchange, status: int, code: str) -> None:
    """The hub refused ``what`` synchronously with ``status``/``code`` (the check names the code)."""
    err = sync_error(ex)
    s.check(f"{what}: HTTP {status} with {code} {error_message(code)}", f"{status} {code}", f"{err.status} {err.code}",
            error_code=code)


def refuse_conversion_fields(s: Session, net: FxNet, q: Quote) -> None:
    """POST /quotes with FSPIOP 2.0's ``converter`` or ``currencyConversion`` (a fresh quoteId each): refused
    synchronously with 3103, as quoting-service v17 (whose QuotesPostRequest lacks them) does."""
    rate = {"sourceAmount": {"currency": net.source, "amount": "1"}, "targetAmount": dict(q.transfer_amount)}
    for field, value in (("converter", "PAYER"), ("currencyConversion", rate)):
        body = {**q.request, "quoteId": new_id(), field: value}
        ex = s.fspiop("POST", "quoting", "/quotes", source=q.payer.fsp, destination=q.payee.fsp, body=body,
                      version=FX_VERSION)
        refused(s, f"POST /quotes with {field} (FSPIOP 2.0; quoting-service does not take it)", ex, 400, "3103")


def answer(cb: Callback) -> str:
    """What a callback says in one word: its error code, else its conversionState or transferState, else its
    method."""
    if cb.error:
        return cb.error_code or "error without errorCode"
    body = cb.body if isinstance(cb.body, dict) else {}
    return str(body.get("conversionState") or body.get("transferState") or cb.method)


def check_answer(s: Session, what: str, expected: str, cb: Callback, *, expectation: str | None = None) -> None:
    """``what`` is answered with ``expected`` (an error code or a state); the check names the code."""
    code = expected if expected.isdigit() else None
    label = f"{expected} {error_message(expected)}" if code else expected
    s.check(f"{what}: {label}", expected, answer(cb), error_code=code, expectation=expectation)


def check_fx_state(s: Session, requester: str, commit_request_id: str, expected: str) -> Callback:
    """GET /fxTransfers/{ID} as ``requester`` and check what the hub reports (a state or an error code)."""
    cb = get_fx_transfer(s, requester, commit_request_id)
    check_answer(s, f"GET /fxTransfers as {requester} afterwards", expected, cb)
    return cb


def cancel_as_fxp(s: Session, net: FxNet, commit_request_id: str, code: str = "5105") -> Callback:
    """The FXP aborts its conversion (``PUT /fxTransfers/{ID}/error``, allowed until the dependent transfer
    commits); returns the error the payer hears."""
    mark = s.sim.mark()
    body = {"errorInformation": {"errorCode": code, "errorDescription": error_message(code)}}
    ex = s.fspiop("PUT", "ml_api_adapter", f"/fxTransfers/{commit_request_id}/error", source=net.fxp.fsp,
                  destination=net.payer.fsp, body=body, version=FX_VERSION)
    if ex.status != 200:
        raise UnexpectedResponse(f"PUT /fxTransfers/{{ID}}/error answered {ex.status}: {ex.response_body}",
                                 response=ex)
    return s.await_callback(net.payer.fsp, "fxTransfers", commit_request_id, after=mark, error=True)
