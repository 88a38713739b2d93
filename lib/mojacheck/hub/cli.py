"""``python -m mojacheck.hub`` / ``mojacheck hub``: serve the embedded hub."""

from __future__ import annotations

import argparse
import logging
import os

from mojacheck.hub.app import create_app
from mojacheck.hub.config import TOKEN_ENV, HubConfig
from mojacheck.server import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mojacheck hub", description="Serve the embedded Mojaloop-compatible hub.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--db", default="mojacheck-hub.sqlite", help="SQLite file; state survives restarts")
    parser.add_argument("--release", choices=("13", "14", "17"), default="17")
    parser.add_argument("--expiry-interval", type=float, default=1.0, metavar="S",
                        help="seconds between expiry sweeps (Mojaloop: 15)")
    parser.add_argument("--on-us", action="store_true", help="allow transfers with payer = payee")
    parser.add_argument("--supported-versions", default=None, metavar="V,V",
                        help="FSPIOP versions accepted, e.g. 1.0,1.1 (default: the release's own list)")
    parser.add_argument("--delivery", choices=("aiohttp", "httpx"), default="aiohttp")
    parser.add_argument("--log-level", default="warning")
    return parser


def _versions(text: str | None) -> tuple[str, ...] | None:
    items = tuple(v.strip() for v in (text or "").split(",") if v.strip())
    return items or None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = HubConfig(
        db_path=args.db,
        release=args.release,
        expiry_interval_s=args.expiry_interval,
        on_us_transfers=args.on_us,
        supported_versions=_versions(args.supported_versions),
        bearer_token=os.environ.get(TOKEN_ENV) or None,
        delivery_kind=args.delivery,
    )
    serve(create_app(config), host=args.host, port=args.port, log_level=args.log_level)
    return 0
