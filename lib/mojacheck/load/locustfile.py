"""The Locust file of ``mojacheck load``: each worker process is a payer FSP, each user makes payments one after
another, and the master (or the single local process) writes every payment's record to ``payments.jsonl``.

Run by ``runner/load.py`` as ``locust -f <this file> --mojacheck-plan plan.json ...``; never imported by anything
else of ours (importing Locust monkey-patches the interpreter with gevent). Besides Locust's own HTTP rows, every
callback is an event of type CALLBACK (``lookup``, ``quote``, ``transfer``, from request to callback) and every
payment one of type PAYMENT named by its kind (from the first request to the last callback), so Locust's CSV, HTML
and JSON show them too.

The load's duration is kept here, not with Locust's ``--run-time``: at the end the master stops the users gently
(each finishes the payment it is in, within ``--stop-timeout``), waits for every worker's last records and only
then quits, so no payment the hub saw goes unrecorded.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

from mojacheck.load.payer import Flows, PayerFsp, Sent
from mojacheck.load.plan import LoadPlan
from mojacheck.load.records import WORKERS_FILE, Writer

RECORDS = "mojacheck_records"
HELLO = "mojacheck_worker"
FLUSH_S = 1.0
FINAL_WAIT_S = 30.0
log = logging.getLogger("mojacheck.load")


class LoadFailure(Exception):
    """A payment or callback that did not end as its kind expects (Locust counts it as a failure)."""


class _State:
    plan: LoadPlan | None = None
    payer: PayerFsp | None = None
    reporter: Reporter | None = None


STATE = _State()


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument("--mojacheck-plan", default="", help="the load plan JSON written by mojacheck load")
    parser.add_argument("--mojacheck-callback-host", default="",
                        help="the address the hub reaches this machine's workers at (default: the plan's)")


@events.init.add_listener
def _init(environment: Environment, **_kw: Any) -> None:
    options = environment.parsed_options
    plan = LoadPlan.read(options.mojacheck_plan)
    STATE.plan = plan
    PaymentUser.host = plan.services["ml_api_adapter"]
    PaymentUser.insecure = not plan.verify_tls
    PaymentUser.wait_time = constant_throughput(plan.per_user_rate) if plan.per_user_rate else constant(0)
    runner = environment.runner
    assert runner is not None
    if not isinstance(runner, WorkerRunner):
        Collector(plan, runner, environment)
    if not isinstance(runner, MasterRunner):
        index = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        try:
            payer = PayerFsp(plan, index, options.mojacheck_callback_host or None)
            url = payer.start()
        except Exception as exc:  # no callbacks, no load: say why and leave (the master stops waiting for us)
            log.error("worker %s could not become its payer FSP: %s: %s", index, type(exc).__name__, exc)
            sys.exit(2)
        STATE.payer = payer
        STATE.reporter = Reporter(runner, payer, environment)
        runner.send_message(HELLO, {"worker": index, "payer": payer.name, "callback": url,
                                    "host": socket.gethostname()})


class Reporter:
    """Worker side: sends the records of finished payments to the master every second, and the rest at the end."""

    def __init__(self, runner: Runner, payer: PayerFsp, environment: Environment) -> None:
        self.runner, self.payer = runner, payer
        self.buffer: list[dict[str, Any]] = []
        self.loop = gevent.spawn(self._flush_forever)
        environment.events.test_stop.add_listener(self._final)

    def add(self, record: dict[str, Any]) -> None:
        self.buffer.append(record)

    def _send(self, final: bool) -> None:
        batch, self.buffer = self.buffer, []
        data: dict[str, Any] = {"worker": self.payer.index, "records": batch, "final": final}
        if final:
            data.update(received=self.payer.receiver.received, unexpected=self.payer.receiver.unexpected)
        self.runner.send_message(RECORDS, data)

    def _flush_forever(self) -> None:
        while True:
            gevent.sleep(FLUSH_S)
            if self.buffer:
                self._send(final=False)

    def _final(self, **_kw: Any) -> None:
        self._send(final=True)


class Collector:
    """Master (or the single local process): writes the records, keeps the duration, stops gently."""

    def __init__(self, plan: LoadPlan, runner: Runner, environment: Environment) -> None:
        self.plan, self.runner = plan, runner
        self.writer = Writer(_out_dir(plan))
        self.workers: dict[int, dict[str, Any]] = {}
        self.finished: set[int] = set()
        runner.register_message(RECORDS, self._records)
        runner.register_message(HELLO, self._hello)
        environment.events.test_start.add_listener(self._started)

    def _hello(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        self.workers[int(msg.data["worker"])] = dict(msg.data)

    def _records(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        self.writer.write(msg.data["records"])
        if msg.data.get("final"):
            worker = int(msg.data["worker"])
            self.finished.add(worker)
            self.workers.setdefault(worker, {}).update(received=msg.data.get("received"),
                                                       unexpected=msg.data.get("unexpected"))

    def _started(self, **_kw: Any) -> None:
        gevent.spawn_later(self.plan.duration_s, self._finish)

    def _finish(self) -> None:
        self.runner.stop()  # users finish the payment they are in (--stop-timeout), then each worker's test_stop
        deadline = time.monotonic() + FINAL_WAIT_S
        while set(self.workers) - self.finished and time.monotonic() < deadline:
            gevent.sleep(0.1)
        missing = sorted(set(self.workers) - self.finished)
        if missing:
            log.error("no last records from workers %s: their unfinished payments are not in payments.jsonl", missing)
        self.writer.close()
        (_out_dir(self.plan) / WORKERS_FILE).write_text(
            json.dumps({"workers": [self.workers[k] for k in sorted(self.workers)], "missing": missing}, indent=1),
            encoding="utf-8")
        self.runner.quit()


def _out_dir(plan: LoadPlan) -> Path:
    return Path(plan.out_dir)


class PaymentUser(FastHttpUser):
    """One simulated payer customer: pays a payee party of its own (so its lookups' callbacks are its own)."""

    host = "http://127.0.0.1"
    wait_time = constant(0)
    _numbers = itertools.count()

    def on_start(self) -> None:
        plan, payer = STATE.plan, STATE.payer
        assert plan is not None and payer is not None
        self.client.client.cookiejar = None  # FSPIOP has no cookies: skip the jar on every request
        number = next(PaymentUser._numbers)
        self.flows = Flows(payer, plan.payees[number % len(plan.payees)], self._send, self._fire,
                           seed=payer.index * 100_003 + number)

    @task
    def pay(self) -> None:
        record = self.flows.run(self.flows.next_kind())
        assert STATE.reporter is not None
        STATE.reporter.add(record.to_json())

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None, name: str) -> Sent:
        with self.client.request(method, url, name=name, data=body, headers=headers, catch_response=True) as resp:
            status = int(resp.status_code or 0)
            content = (resp.content or b"") if status else b""
            if status == 202:
                resp.success()
            else:
                resp.failure(f"HTTP {status or 'no answer'}: {content[:200]!r}")
        return Sent(status, content)

    def _fire(self, request_type: str, name: str, ms: float, failure: str | None) -> None:
        self.environment.events.request.fire(
            request_type=request_type.upper(), name=name, response_time=ms, response_length=0,
            exception=None if failure is None else LoadFailure(failure), context={})
