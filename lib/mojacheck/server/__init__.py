"""What the hub and the simulator share: outbound delivery, serving an ASGI app, JSON helpers.

Stands beside ``fspiop``; never imports ``hub`` or ``sim`` (both stand on it).
"""

from __future__ import annotations

from mojacheck.server.delivery import AiohttpDelivery, Delivery, DeliveryResult, HttpxDelivery, make_delivery
from mojacheck.server.jsonutil import dumps, json_response, loads
from mojacheck.server.serve import ServerThread, serve

__all__ = [
    "AiohttpDelivery",
    "Delivery",
    "DeliveryResult",
    "HttpxDelivery",
    "ServerThread",
    "dumps",
    "json_response",
    "loads",
    "make_delivery",
    "serve",
]
