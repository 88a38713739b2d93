"""Every central-settlement v2 route the hub serves, mounted under ``/settlement/v2`` by ``app.py``."""

from __future__ import annotations

from mojacheck.hub.settlement import api, update, windows

routes = [*windows.routes, *api.routes, *update.routes]
