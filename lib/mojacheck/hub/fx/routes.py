"""The FX routes, mounted by the app only at releases with FX (before them these paths answer 404/3002, as the
older services did). ``/services/FXP`` comes before the 3PPI ``/services/{ServiceType}`` route it would otherwise
fall into."""

from __future__ import annotations

from starlette.routing import Route

from mojacheck.hub.fx import fulfil, prepare, quotes, services
from mojacheck.hub.validation import fspiop

_ERROR_FIELDS = ("errorInformation.errorCode", "errorInformation.errorDescription")

routes = [
    Route("/fxQuotes", fspiop(quotes.post_fx_quote), methods=["POST"]),
    Route("/fxQuotes/{ID}", fspiop(quotes.get_fx_quote), methods=["GET"]),
    Route("/fxQuotes/{ID}", fspiop(quotes.put_fx_quote), methods=["PUT"]),
    Route("/fxQuotes/{ID}/error", fspiop(quotes.put_fx_quote_error, required=_ERROR_FIELDS), methods=["PUT"]),
    Route("/fxTransfers", fspiop(prepare.post_fx_transfer), methods=["POST"]),
    Route("/fxTransfers/{ID}", fspiop(prepare.get_fx_transfer), methods=["GET"]),
    Route("/fxTransfers/{ID}", fspiop(fulfil.put_fx_transfer, required=("conversionState",)), methods=["PUT"]),
    Route("/fxTransfers/{ID}", fspiop(prepare.patch_fx_transfer, with_body=False), methods=["PATCH"]),
    Route("/fxTransfers/{ID}/error", fspiop(fulfil.put_fx_transfer_error, required=_ERROR_FIELDS), methods=["PUT"]),
    Route("/services/FXP", fspiop(services.get_services_fxp), methods=["GET"]),
    Route("/services/FXP/{SourceCurrency}/{TargetCurrency}", fspiop(services.get_services_fxp), methods=["GET"]),
]
