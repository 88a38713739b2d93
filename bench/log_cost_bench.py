"""What info logging costs the embedded hub and simulator: payments/s and CPU per payment at info vs warning.

Starts the hub and the simulator the runner's way (``mojacheck hub|sim --log-level info``, stderr to hub.log and
sim.log, a fresh database) with one addition: SIGUSR1 switches their ``mojacheck.hub``/``mojacheck.sim`` loggers
between info and warning, so both levels are measured in the same processes on the same database. Provisions a payer
and a payee (the simulator plays the payee; this script's receiver plays the payer, so no inbox polling is
measured), then runs segments of PAYMENTS payments (POST /quotes → PUT /quotes, POST /transfers → PUT /transfers)
from CONCURRENCY workers, alternating levels in ABBA order so a trend in the machine's load hits both. Per segment:
payments/s and the CPU time (user + system, from /proc) the hub and the simulator spent per payment; the median per
level is reported. A payment is 4 requests served and 5 messages delivered by the hub (9 log lines), 2 and 2 by the
simulator.

    python bench/log_cost_bench.py [--payments 300] [--segments 6] [--concurrency 10]

Measured here (2 vCPU shared with other engineers' suite runs, load average ~5, Python 3.11; 500 payments per
segment, 6 segments per level, 10 workers), three runs:

    run   payments/s info / warning   hub CPU ms/payment info / warning   sim CPU ms/payment info / warning
    1         251.8 / 244.3  (+3%)          2.11 / 1.98  (+6.6%)               1.36 / 1.29  (+5.4%)
    2         197.9 / 260.8 (-24%)          2.24 / 2.00 (+12.0%)               1.49 / 1.36  (+9.6%)
    3         133.3 / 137.7  (-3%)          2.33 / 2.12  (+9.9%)               1.51 / 1.45  (+4.1%)

So info costs the hub about 10% more CPU per payment (median of the three runs: +9.9%, ~0.2 ms for 9 lines,
~20 µs a line as measured inside the hub process; ~7 µs a line in a tight loop, where the logging code stays in the
CPU's caches). The throughput difference (median -3%) is within this machine's noise: two segments at the same
level differ by up to ±10-30% here. The runner keeps info as its default: a suite run is bound by the notebooks'
waiting, not by the hub's CPU (notebooks 00-22, 393 checks: 20.9 s and 16.1 s at info, 16.7 s and 17.3 s at warning;
hub.log 71 KB at info, its start line alone at warning).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from mojacheck import connect  # noqa: E402
from mojacheck.fspiop import new_id, request_headers  # noqa: E402
from mojacheck.params import Params, load_params  # noqa: E402
from mojacheck.runner import services  # noqa: E402

PAYER, PAYEE, CURRENCY = "mcpayerfsp", "mcpayeefsp1", "USD"
WAIT_S = 10.0
Segments = dict[str, list[dict[str, float]]]  # level → one record per segment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Payer:
    """The payer FSP's callback receiver: PUT /{fsp}/{resource}/{id}[/error] resolves the matching future."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str], asyncio.Future[tuple[bool, Any]]] = {}

    def expect(self, resource: str, ident: str) -> asyncio.Future[tuple[bool, Any]]:
        future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[(resource, ident)] = future
        return future

    async def handle(self, request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")  # fsp, resource, id[, error]
        body = await request.read()
        future = self.waiting.pop((parts[1], parts[2]), None) if len(parts) >= 3 else None
        if future is not None and not future.done():
            future.set_result((parts[-1] == "error", json.loads(body) if body else None))
        return web.Response(status=200 if request.method == "PUT" else 202)


def bench_params(tmp: Path, level: str) -> Params:
    hub, sim = free_port(), free_port()
    base = f"http://127.0.0.1:{hub}"
    svc = {"als": "", "als_admin": "/als-admin", "quoting": "", "ml_api_adapter": "", "central_ledger_admin": "/admin",
           "central_settlement": "/settlement/v2", "thirdparty": ""}
    flow = ", ".join(f"{k}: '{base}{v}'" for k, v in svc.items())
    return load_params("local", root=ROOT, overrides=[
        f"hub.port={hub}", f"hub.db={tmp / 'hub.sqlite3'}", f"hub.log_level={level}", f"sim.log_level={level}",
        f"sim.port={sim}", f"sim.url=http://127.0.0.1:{sim}", f"sim.public_url=http://127.0.0.1:{sim}",
        f"provisioning.oracle_endpoint={base}/oracle", f"services={{{flow}}}"])


def provision(params: Params, payer_url: str) -> None:
    s = connect(params.public_dict())
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        s.admin.ensure_hub_account(kind, CURRENCY)
    s.admin.ensure_settlement_model("DEFERREDNET")
    for fsp, base in ((PAYER, f"{payer_url}/{PAYER}"), (PAYEE, f"{params.sim.public_url}/{PAYEE}")):
        s.admin.ensure_participant(fsp, CURRENCY)
        s.admin.ensure_active(fsp)
        s.admin.ensure_ndc(fsp, CURRENCY, Decimal("10000000"))
        s.admin.ensure_funds(fsp, CURRENCY, Decimal("20000000"))
        s.admin.ensure_endpoints(fsp, base)


async def post(client: aiohttp.ClientSession, url: str, resource: str, body: dict[str, Any]) -> None:
    headers = request_headers(resource, PAYER, PAYEE)
    async with client.post(url, data=json.dumps(body), headers=headers) as resp:
        if resp.status != 202:
            raise RuntimeError(f"POST {url} answered {resp.status}: {await resp.text()}")


async def pay(client: aiohttp.ClientSession, hub: str, payer: Payer) -> None:
    quote_id = new_id()
    party = {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710202001", "fspId": PAYEE}}
    answer = payer.expect("quotes", quote_id)
    await post(client, f"{hub}/quotes", "quotes", {
        "quoteId": quote_id, "transactionId": new_id(), "payee": party,
        "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710101001", "fspId": PAYER}},
        "amountType": "SEND", "amount": {"amount": "1", "currency": CURRENCY},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"}})
    error, quote = await asyncio.wait_for(answer, WAIT_S)
    if error:
        raise RuntimeError(f"quote refused: {quote}")
    transfer_id = new_id()
    answer = payer.expect("transfers", transfer_id)
    expiration = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 60))
    await post(client, f"{hub}/transfers", "transfers", {
        "transferId": transfer_id, "payerFsp": PAYER, "payeeFsp": PAYEE, "amount": quote["transferAmount"],
        "ilpPacket": quote["ilpPacket"], "condition": quote["condition"], "expiration": expiration})
    error, state = await asyncio.wait_for(answer, WAIT_S)
    if error or state.get("transferState") != "COMMITTED":
        raise RuntimeError(f"transfer not committed: {state}")


async def payments(hub: str, payer: Payer, count: int, concurrency: int) -> float:
    """Run ``count`` payments over ``concurrency`` workers; payments per second."""
    left = iter(range(count))

    async def worker(client: aiohttp.ClientSession) -> None:
        for _ in left:
            await pay(client, hub, payer)

    async with aiohttp.ClientSession() as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


# The hub and the simulator as `mojacheck hub|sim` runs them, plus SIGUSR1 switching their loggers between info and
# warning, so both levels are measured in the same processes, on the same database, in alternating segments.
SWITCHABLE = """
import logging, signal, sys
from mojacheck.cli import main
def switch(signum, frame):
    for name in ("mojacheck.hub", "mojacheck.sim"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING if logger.level in (logging.NOTSET, logging.INFO) else logging.INFO)
signal.signal(signal.SIGUSR1, switch)
sys.exit(main(sys.argv[1:]))
"""


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def switchable(spec: services.ServiceSpec) -> services.ServiceSpec:
    argv = list(spec.argv)
    assert argv[1:3] == ["-m", "mojacheck"]
    return services.ServiceSpec(spec.name, [argv[0], "-c", SWITCHABLE, *argv[3:]], spec.health_url, spec.log_file)


def log_bytes(tmp: Path) -> int:
    return sum((tmp / f).stat().st_size for f in ("hub.log", "sim.log"))


async def measure(tmp: Path, segments: int, count: int, concurrency: int, warmup: int) -> Segments:
    """Per level, one record per segment: payments/s, CPU ms per payment of hub and sim, log bytes per payment."""
    payer = Payer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", payer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    params = bench_params(tmp, "info")
    env = services._child_env(params)
    results: Segments = {"info": [], "warning": []}
    try:
        with services.running(switchable(services.hub_spec(params, tmp)), cwd=ROOT, env=env) as hub_proc, \
                services.running(switchable(services.sim_spec(params, tmp)), cwd=ROOT, env=env) as sim_proc:
            await asyncio.to_thread(provision, params, f"http://127.0.0.1:{port}")
            hub = f"http://127.0.0.1:{params.hub.port}"
            await payments(hub, payer, warmup, concurrency)
            level = "info"
            # ABBA order (info, warning, warning, info, ...): a trend in the machine's load hits both levels alike.
            for n in range(2 * segments):
                wanted = "info" if n % 4 in (0, 3) else "warning"
                if wanted != level:
                    for proc in (hub_proc, sim_proc):
                        proc.send_signal(signal.SIGUSR1)
                    level = wanted
                    await asyncio.sleep(0.2)  # let both handle the signal before the segment starts
                before = (cpu_s(hub_proc.pid), cpu_s(sim_proc.pid), log_bytes(tmp))
                rate = await payments(hub, payer, count, concurrency)
                after = (cpu_s(hub_proc.pid), cpu_s(sim_proc.pid), log_bytes(tmp))
                hub_ms, sim_ms, size = ((a - b) / count for a, b in zip(after, before, strict=True))
                results[level].append({"rate": rate, "hub": 1000 * hub_ms, "sim": 1000 * sim_ms, "bytes": size})
                print(f"segment {n + 1:2} {level:<8} {rate:7.1f} payments/s  CPU ms/payment: hub {1000 * hub_ms:.2f} "
                      f"sim {1000 * sim_ms:.2f}  ({size:.0f} log bytes per payment)", flush=True)
    finally:
        await runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=300, help="payments per segment")
    parser.add_argument("--segments", type=int, default=6, help="segments per level")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(measure(Path(tmp), args.segments, args.payments, args.concurrency, args.warmup))
    median = {level: {k: statistics.median(r[k] for r in runs) for k in ("rate", "hub", "sim", "bytes")}
              for level, runs in results.items()}
    for level, m in median.items():
        print(f"{level:<8} median of {len(results[level])}: {m['rate']:7.1f} payments/s, CPU ms/payment hub "
              f"{m['hub']:.3f} sim {m['sim']:.3f}, {m['bytes']:.0f} log bytes/payment")
    info, warning = median["info"], median["warning"]
    print(f"info vs warning: throughput {100 * (info['rate'] / warning['rate'] - 1):+.1f}%, CPU per payment hub "
          f"{100 * (info['hub'] / warning['hub'] - 1):+.1f}%, sim {100 * (info['sim'] / warning['sim'] - 1):+.1f}%")


if __name__ == "__main__":
    main()
