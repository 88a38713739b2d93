"""`mojacheck run|hub|sim`: a thin CLI over the runner, the embedded hub and the simulator.

Heavy imports (papermill, nbconvert, the hub's server) happen inside the subcommand that needs them, so each
subcommand starts quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

USAGE = "mojacheck {run,hub,sim,compare,snapshot,snapshot-diff,upgrade} ..."


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: {USAGE}\n\n{_HELP}")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "run":
        return _run(rest)
    if command == "hub":
        from mojacheck.hub.cli import main as hub_main

        return int(hub_main(rest) or 0)
    if command == "sim":
        from mojacheck.sim.cli import main as sim_main

        return int(sim_main(rest) or 0)
    if command == "upgrade":
        from mojacheck.upgrade import main as upgrade_main

        return upgrade_main(rest)
    if command in _REPORT_COMMANDS:
        from mojacheck.reports import commands

        return int(getattr(commands, _REPORT_COMMANDS[command])(rest))
    print(f"usage: {USAGE}\nmojacheck: unknown command {command!r}", file=sys.stderr)
    return 2


_REPORT_COMMANDS = {"compare": "compare_main", "snapshot": "snapshot_main", "snapshot-diff": "snapshot_diff_main"}

_HELP = """commands:
  run            run the notebook suite against an environment (params/<env>.yaml)
  hub            serve the embedded Mojaloop-compatible hub
  sim            serve the simulator (test FSPs and callback inbox)
  compare        compare two run folders (expected/unexpected differences), write the comparison notebook+HTML
  snapshot       save the hub's state as seen through its public APIs
  snapshot-diff  what was lost, changed and new between two snapshots
  upgrade        rehearse an upgrade (13 → 14 → 17) on the embedded hub and write the upgrade guide

`mojacheck COMMAND --help` for a command's options."""


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mojacheck run",
        description="Execute notebooks/NN_*.ipynb against an environment and write outputs/<env>/<run-id>/.",
        epilog="exit codes: 0 every check passed, 1 a check failed, 2 the run could not be done",
    )
    parser.add_argument("--env", required=True, help="params/<ENV>.yaml to use, e.g. local")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override one param (value parsed as YAML), e.g. --set hub.release=13; repeatable",
    )
    parser.add_argument("--notebooks", default="*", metavar="GLOB", help="run only notebooks matching GLOB")
    parser.add_argument("--output-root", type=Path, default=None, help="default: <root>/outputs")
    parser.add_argument("--notebooks-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")
    return parser


def _run(argv: list[str]) -> int:
    try:
        ns = _run_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    from mojacheck.runner import RunOptions, run

    options = RunOptions(
        env=ns.env, overrides=ns.overrides, notebooks=ns.notebooks, root=ns.root,
        notebooks_dir=ns.notebooks_dir, output_root=ns.output_root,
    )
    try:
        return run(options).exit_code
    except KeyboardInterrupt:  # services are already stopped by the runner's context managers
        print("mojacheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
