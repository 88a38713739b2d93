"""``mojacheck sim`` / ``python -m mojacheck.sim``: run the simulator until interrupted."""

from __future__ import annotations

import argparse

from mojacheck.server.serve import serve
from mojacheck.sim.app import create_app
from mojacheck.sim.config import DEFAULT_INBOX_SIZE, SimConfig


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mojacheck sim", description="Simulated test FSPs: payee answers, behaviours, callback inbox."
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4040, help="port (default 4040)")
    parser.add_argument("--hub-url", required=True, help="where the simulator sends its requests and callbacks")
    parser.add_argument(
        "--route",
        type=_pair,
        action="append",
        default=[],
        metavar="RESOURCE=URL",
        help="per-resource hub URL, e.g. parties=http://als:4002 (repeatable)",
    )
    parser.add_argument(
        "--secret", type=_pair, action="append", default=[], metavar="FSP=SECRET", help="ILP secret of an FSP"
    )
    parser.add_argument("--delivery", choices=["aiohttp", "httpx"], default="aiohttp")
    parser.add_argument("--timeout", type=float, default=10.0, help="outbound request timeout, seconds")
    parser.add_argument("--inbox-size", type=int, default=DEFAULT_INBOX_SIZE)
    parser.add_argument("--log-level", default="warning")
    return parser


def config_from_args(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        hub_url=args.hub_url,
        routes=dict(args.route),
        secrets=dict(args.secret),
        delivery=args.delivery,
        timeout=args.timeout,
        inbox_size=args.inbox_size,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    serve(create_app(config_from_args(args)), host=args.host, port=args.port, log_level=args.log_level)
    return 0
