"""Prepares per second of the embedded hub: how fast it acknowledges POST /transfers, and how fast they are stored.

    python bench/prepare_throughput.py [--runs 3] [--transfers 3000] [--in-flight 32] [--release 17]

Each run starts a fresh hub (``mojacheck hub``, its own SQLite file) and a sink FSP (answers every delivery at once)
as processes, provisions a payer and a payee, sends a warm-up, then ``--transfers`` prepares with ``--in-flight``
concurrent requests. It reports acknowledged/s (202s received over the send time), stored/s (until the last
transfer is RESERVED in the database, read with a separate read-only connection) and the hub process's CPU time per
prepare (user + system, from /proc on Linux: the figure least disturbed by other load on a shared machine), and the
median of the runs. The client shares the machine with the hub: the figures compare hub versions on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from support import free_port, hub_command, process, sink_command, wait_up

from mojacheck.fspiop import condition_for, request_headers

FULFILMENT = "WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"
ILP_PACKET = "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w"
DEADLINE_S = 120.0


def provision(hub: str, sink: str, names: list[str]) -> None:
    admin = httpx.Client(base_url=hub + "/admin", timeout=10)
    for kind in ("HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT"):
        admin.post("/participants/Hub/accounts", json={"type": kind, "currency": "USD"}).raise_for_status()
    admin.post("/settlementModels", json={
        "name": "DEFERREDNET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True}).raise_for_status()
    for name in names:
        admin.post("/participants", json={"name": name, "currency": "USD"}).raise_for_status()
        admin.post(f"/participants/{name}/initialPositionAndLimits", json={
            "currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 10**12}, "initialPosition": 0,
        }).raise_for_status()
        for kind, path in (("FSPIOP_CALLBACK_URL_TRANSFER_POST", "/transfers"),
                           ("FSPIOP_CALLBACK_URL_TRANSFER_PUT", "/transfers/{{transferId}}"),
                           ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", "/transfers/{{transferId}}/error")):
            admin.post(f"/participants/{name}/endpoints",
                       json={"type": kind, "value": f"{sink}/{name}{path}"}).raise_for_status()
        account = next(a for a in admin.get(f"/participants/{name}/accounts").json()
                       if a["ledgerAccountType"] == "SETTLEMENT")
        admin.post(f"/participants/{name}/accounts/{account['id']}", json={
            "transferId": str(uuid.uuid4()), "externalReference": "bench", "action": "recordFundsIn",
            "reason": "bench", "amount": {"amount": "1000000000", "currency": "USD"}}).raise_for_status()


def prepare_body(payer: str, payee: str) -> bytes:
    expiration = (datetime.now(UTC) + timedelta(minutes=10)).isoformat(timespec="milliseconds")
    return json.dumps({
        "transferId": str(uuid.uuid4()), "payerFsp": payer, "payeeFsp": payee,
        "amount": {"amount": "1", "currency": "USD"}, "ilpPacket": ILP_PACKET,
        "condition": condition_for(FULFILMENT), "expiration": expiration.replace("+00:00", "Z"),
    }).encode()


async def send_prepares(hub: str, payer: str, payee: str, count: int, in_flight: int) -> tuple[float, int]:
    """Seconds to get every answer, and how many were 202."""
    bodies = [prepare_body(payer, payee) for _ in range(count)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(base_url=hub, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal accepted
            while not queue.empty():
                body = queue.get_nowait()
                headers = request_headers("transfers", payer, payee)
                try:
                    r = await client.post("/transfers", content=body, headers=headers)
                except httpx.TransportError:
                    # On a loaded machine a kept-alive connection can be closed under us (uvicorn closes idle ones
                    # after 5 s); the same body again is a duplicate to the hub, so resending is safe.
                    r = await client.post("/transfers", content=body, headers=headers)
                accepted += r.status_code == 202

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - started, accepted


def stored(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM transfer WHERE state = 'RESERVED'").fetchone()[0])
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0.0 where /proc is not there)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(release: str, count: int, in_flight: int, work: Path) -> tuple[float, float, float]:
    hub_port, sink_port = free_port(), free_port()
    hub, sink, db = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{sink_port}", work / "hub.sqlite"
    hub_cmd = hub_command(hub_port, db, release, "--expiry-interval", "5")
    with process(sink_command(sink_port), work / "sink.log") as sink_proc, \
            process(hub_cmd, work / "hub.log") as hub_proc:
        wait_up(sink + "/health", sink_proc)
        wait_up(hub + "/health", hub_proc)
        payer, payee = f"benchpayer{uuid.uuid4().hex[:6]}", f"benchpayee{uuid.uuid4().hex[:6]}"
        provision(hub, sink, [payer, payee])
        asyncio.run(send_prepares(hub, payer, payee, 200, in_flight))  # warm-up (connections, caches)
        base, cpu_before = stored(db), cpu_seconds(hub_proc.pid)
        started = time.perf_counter()
        seconds, accepted = asyncio.run(send_prepares(hub, payer, payee, count, in_flight))
        while stored(db) < base + accepted:
            if time.perf_counter() - started > DEADLINE_S:
                raise SystemExit(f"only {stored(db) - base} of {accepted} prepares stored after {DEADLINE_S}s")
            time.sleep(0.01)
        all_stored = time.perf_counter() - started
        cpu_ms = (cpu_seconds(hub_proc.pid) - cpu_before) * 1000 / count
    if accepted != count:
        raise SystemExit(f"{count - accepted} prepares were not accepted with 202")
    return count / seconds, count / all_stored, cpu_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transfers", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--release", default="17")
    ns = parser.parse_args()
    acks, stores, cpus = [], [], []
    for run in range(1, ns.runs + 1):
        with tempfile.TemporaryDirectory(prefix="mojacheck-bench-") as work:
            try:
                ack_rate, store_rate, cpu_ms = one_run(ns.release, ns.transfers, ns.in_flight, Path(work))
            except (httpx.HTTPError, SystemExit):
                print("hub log (last lines):\n" + "\n".join((Path(work) / "hub.log").read_text().splitlines()[-20:]))
                raise
        acks.append(ack_rate)
        stores.append(store_rate)
        cpus.append(cpu_ms)
        print(f"run {run}: {ack_rate:.0f} acknowledged/s, {store_rate:.0f} stored/s, "
              f"hub CPU {cpu_ms:.2f} ms/prepare", flush=True)
    print(f"median of {ns.runs}: {statistics.median(acks):.0f} acknowledged/s, "
          f"{statistics.median(stores):.0f} stored/s, hub CPU {statistics.median(cpus):.2f} ms/prepare "
          f"({ns.transfers} prepares, {ns.in_flight} in flight, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
