"""What one simulator process holds, reachable from a request as ``request.app.state.sim``; a module of its own so
the control API can name it without importing the app that mounts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mojacheck.server.delivery import Delivery
from mojacheck.sim.bulk import BulkPayee
from mojacheck.sim.config import SimConfig
from mojacheck.sim.conversation import Conversations
from mojacheck.sim.fxp import Fxp
from mojacheck.sim.inbox import Inbox
from mojacheck.sim.payee import Payee
from mojacheck.sim.request_to_pay import RequestToPay
from mojacheck.sim.state import PartyStore, RuleBook
from mojacheck.sim.thirdparty.service import ThirdParty


@dataclass
class Simulator:
    """Everything one simulator process holds; reachable from a request as ``request.app.state.sim``."""

    config: SimConfig
    delivery: Delivery
    inbox: Inbox = field(init=False)
    parties: PartyStore = field(default_factory=PartyStore)
    rules: RuleBook = field(default_factory=RuleBook)
    payee: Payee = field(init=False)
    fxp: Fxp = field(init=False)
    thirdparty: ThirdParty = field(init=False)
    request_to_pay: RequestToPay = field(init=False)
    bulk: BulkPayee = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = Inbox(self.config.inbox_size)
        self.payee = Payee(self.config, self.inbox, self.parties, self.rules, self.delivery)
        self.fxp = Fxp(self.config, self.rules, self.payee)
        self.thirdparty = ThirdParty(self.config, self.inbox, self.delivery, self.rules)
        talk = Conversations(self.config, self.inbox, self.delivery)
        self.request_to_pay = RequestToPay(talk, self.payee, self.rules)
        self.bulk = BulkPayee(self.config, self.payee, self.rules)
