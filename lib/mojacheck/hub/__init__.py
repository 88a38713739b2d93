"""The embedded Mojaloop-compatible hub: one Starlette ASGI app persisted in SQLite.

``create_app(HubConfig(...))`` builds it; ``python -m mojacheck.hub`` serves it (see ``cli.py``).
"""

from mojacheck.hub.app import Hub, create_app
from mojacheck.hub.config import HubConfig

__all__ = ["Hub", "HubConfig", "create_app"]
