"""The embedded Mojaloop-compatible hub: one Starlette ASGI app persisted in SQLite.

``create_app(HubConfig(...))`` builds it; ``mojacheck hub`` serves it (``mojacheck/cli.py``).
"""

from mojacheck.hub.app import create_app
from mojacheck.hub.config import HubConfig
from mojacheck.hub.context import Hub

__all__ = ["Hub", "HubConfig", "create_app"]
