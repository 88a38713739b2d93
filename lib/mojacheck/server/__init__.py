"""What the hub and the simulator share: outbound delivery, serving an ASGI app, their logs, JSON helpers.

Stands beside ``fspiop``; never imports ``hub`` or ``sim`` (both stand on it).
"""

from __future__ import annotations

from mojacheck.server.delivery import AiohttpDelivery, Delivery, DeliveryResult, HttpxDelivery, make_delivery
from mojacheck.server.jsonutil import dumps, dumps_numbers, json_response, loads, numbers_response
from mojacheck.server.logs import AccessLog, LoggedDelivery
from mojacheck.server.serve import ServerThread, serve

__all__ = [
    "AccessLog",
    "AiohttpDelivery",
    "Delivery",
    "DeliveryResult",
    "HttpxDelivery",
    "LoggedDelivery",
    "ServerThread",
    "dumps",
    "dumps_numbers",
    "json_response",
    "loads",
    "make_delivery",
    "numbers_response",
    "serve",
]
