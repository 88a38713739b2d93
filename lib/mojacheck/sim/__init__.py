"""The simulator: plays every test FSP (payee answers, behaviours) and keeps an inbox of all traffic.

Never imports ``mojacheck.hub``: it must work against any Mojaloop hub.
"""

from mojacheck.sim.app import Simulator, create_app
from mojacheck.sim.config import SimConfig
from mojacheck.sim.state import BEHAVIOURS, ControlError

__all__ = ["BEHAVIOURS", "ControlError", "SimConfig", "Simulator", "create_app"]
