"""Every central-settlement v2 route the hub serves, mounted under ``/settlement/v2`` by ``app.py``."""

from __future__ import annotations

from mojacheck.hub import settlement_api, settlement_update, settlement_windows

routes = [*settlement_windows.routes, *settlement_api.routes, *settlement_update.routes]
