"""`mojacheck COMMAND ...`: every command's arguments are parsed here, and only here; each command then calls
one function of the runner, the embedded hub or the simulator.

Heavy imports (papermill, nbconvert, the hub's server) happen inside the command that needs them, so each
command starts quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mojacheck.hub.config import HubConfig
    from mojacheck.sim.config import SimConfig

EXIT_USAGE = 2
EXIT_CRASHED = 2  # the exit-code table's "could not be done"

_LOG_LEVELS = ("debug", "info", "warning", "error")  # as params.py's hub.log_level / sim.log_level
_SET_HELP = "override one param (value parsed as YAML), e.g. --set hub.release=13; repeatable"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mojacheck", description="Regression and upgrade testing for Mojaloop hubs.",
                                     epilog="`mojacheck COMMAND --help` for a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(commands)
    _add_hub(commands)
    _add_sim(commands)
    _add_compare(commands)
    _add_snapshot(commands)
    _add_snapshot_diff(commands)
    _add_upgrade(commands)
    _add_specs(commands)
    _add_publish(commands)
    _add_load(commands)
    _add_null_hub(commands)
    _add_bench(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if ns.command is None:
        parser.print_usage()
        return EXIT_USAGE
    if ns.command in ("hub", "sim", "null-hub"):  # uvicorn handles SIGTERM/SIGINT itself: a graceful shutdown
        return int(ns.handler(ns))
    from mojacheck.runner.interrupt import Interrupted, stopping_on_signals

    try:
        with stopping_on_signals():
            return int(ns.handler(ns))
    except Interrupted as exc:  # hub, simulator and kernel are stopped by the runner's context managers
        print(f"mojacheck: interrupted by {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception:  # a bug of ours: "could not run" (2), never Python's 1, which says "a check failed"
        traceback.print_exc()
        print(f"mojacheck: {ns.command} stopped on an unexpected error (above); exit {EXIT_CRASHED}", file=sys.stderr)
        return EXIT_CRASHED


def _command(commands: argparse._SubParsersAction, name: str, handler: Callable[[argparse.Namespace], int],
             **kwargs: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler)
    return parser


# ---------------------------------------------------------------- run


def _add_run(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "run", _run, help="run the notebook suite against an environment (params/<env>.yaml)",
                 description="Execute notebooks/NN_*.ipynb against an environment and write outputs/<env>/<run-id>/.",
                 epilog="exit codes: 0 every check passed, 1 a check failed, 2 the run could not be done")
    p.add_argument("--env", required=True, help="params/<ENV>.yaml to use, e.g. local")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=_SET_HELP)
    p.add_argument("--notebooks", default="*", metavar="GLOB", help="run only notebooks matching GLOB")
    p.add_argument("--output-root", type=Path, default=None, help="default: <root>/outputs")
    p.add_argument("--notebooks-dir", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")


def _run(ns: argparse.Namespace) -> int:
    from mojacheck.runner import RunOptions, run

    options = RunOptions(env=ns.env, overrides=ns.overrides, notebooks=ns.notebooks, root=ns.root,
                         notebooks_dir=ns.notebooks_dir, output_root=ns.output_root)
    return run(options).exit_code


# ---------------------------------------------------------------- hub and simulator


def _add_hub(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "hub", _hub, help="serve the embedded Mojaloop-compatible hub",
                 description="Serve the embedded Mojaloop-compatible hub.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--db", default="mojacheck-hub.sqlite", help="SQLite file; state survives restarts")
    p.add_argument("--release", choices=("13", "14", "17"), default="17")
    p.add_argument("--expiry-interval", type=float, default=1.0, metavar="S",
                   help="seconds between expiry sweeps (Mojaloop: 15)")
    p.add_argument("--on-us", action="store_true", help="allow transfers with payer = payee")
    p.add_argument("--supported-versions", type=_versions, default=None, metavar="V,V",
                   help="FSPIOP versions accepted, e.g. 1.0,1.1 (default: the release's own list)")
    p.add_argument("--content-version", type=_version, default="1.1", metavar="V",
                   help="FSPIOP version of the messages the hub originates (PROTOCOL_VERSIONS.CONTENT.DEFAULT; "
                        "default %(default)s, as Mojaloop's reference deployments)")
    p.add_argument("--resource-versions", type=_resource_versions, default=(), metavar="R=V,R=V",
                   help="per-resource versions of hub-made messages, e.g. transfers=1.1,quotes=1.0 (RESOURCE_VERSIONS)")
    p.add_argument("--transfer-confirmation-to-payee", action="store_true",
                   help="the payee also hears the commit and the abort (SEND_TRANSFER_CONFIRMATION_TO_PAYEE)")
    p.add_argument("--quotes-persistent", action="store_true",
                   help="quoting-service with SIMPLE_ROUTING_MODE off: duplicate quotes are detected (3106)")
    p.add_argument("--jws-signing-key", metavar="PEM", help="sign the messages the hub originates (JWS_SIGN)")
    p.add_argument("--jws-signing-key-password-env", metavar="NAME",
                   help="environment variable holding the signing key's password")
    p.add_argument("--jws-validate", action="store_true",
                   help="validate FSPs' signatures (JWS_VALIDATE; releases that have it)")
    p.add_argument("--jws-keys-dir", metavar="DIR", help="<fspId>.pem public keys or certificates of the FSPs")
    p.add_argument("--delivery", choices=("aiohttp", "httpx"), default="aiohttp",
                   help="outbound HTTP client (default aiohttp: see server/delivery.py)")
    _add_log_level(p)


def _add_log_level(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-level", type=str.lower, choices=_LOG_LEVELS, default="warning",
                   help="info adds one line per request served and per message sent; the start line is always "
                        "written (default: %(default)s)")


def _version(text: str) -> str:
    from mojacheck.hub.releases import version

    try:
        return version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _resource_versions(text: str) -> tuple[tuple[str, str], ...]:
    """"transfers=1.1,quotes=1.0" (the RESOURCE_VERSIONS format) → (("transfers", "1.1"), ("quotes", "1.0"))."""
    pairs = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        resource, sep, value = item.partition("=")
        if not sep or not resource.strip():
            raise argparse.ArgumentTypeError(f"expected resource=major.minor, got {item!r}")
        pairs.append((resource.strip(), _version(value)))
    return tuple(pairs)


def _versions(text: str) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in text.split(",") if v.strip()) or None


def hub_config(ns: argparse.Namespace) -> HubConfig:
    """The HubConfig the `hub` command's arguments describe (the token comes from the environment only)."""
    from mojacheck.hub.config import TOKEN_ENV, HubConfig

    return HubConfig(db_path=ns.db, release=ns.release, expiry_interval_s=ns.expiry_interval, on_us_transfers=ns.on_us,
                     supported_versions=ns.supported_versions, bearer_token=os.environ.get(TOKEN_ENV) or None,
                     delivery_kind=ns.delivery, content_version=ns.content_version,
                     resource_versions=ns.resource_versions,
                     transfer_confirmation_to_payee=ns.transfer_confirmation_to_payee,
                     quotes_simple_routing=not ns.quotes_persistent, jws_signing_key=ns.jws_signing_key,
                     jws_signing_key_password_env=ns.jws_signing_key_password_env, jws_validate=ns.jws_validate,
                     jws_keys_dir=ns.jws_keys_dir)


def _hub(ns: argparse.Namespace) -> int:
    from mojacheck.hub.app import run

    run(hub_config(ns), host=ns.host, port=ns.port, log_level=ns.log_level)
    return 0


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _add_sim(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "sim", _sim, help="serve the simulator (test FSPs and callback inbox)",
                 description="Simulated test FSPs: payee answers, behaviours, callback inbox.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=4040, help="port (default 4040)")
    p.add_argument("--hub-url", required=True, help="where the simulator sends its requests and callbacks")
    p.add_argument("--route", type=_pair, action="append", default=[], metavar="RESOURCE=URL",
                   help="per-resource hub URL, e.g. parties=http://als:4002 (repeatable)")
    p.add_argument("--secret", type=_pair, action="append", default=[], metavar="FSP=SECRET",
                   help="ILP secret of an FSP")
    p.add_argument("--delivery", choices=("aiohttp", "httpx"), default="aiohttp",
                   help="outbound HTTP client (default aiohttp: see server/delivery.py)")
    p.add_argument("--timeout", type=float, default=10.0, help="outbound request timeout, seconds")
    p.add_argument("--inbox-size", type=int, default=None, help="items the inbox keeps (default 20000)")
    p.add_argument("--jws-keys-dir", metavar="DIR",
                   help="sign as each FSP with its <fspId>.key (PEM private key) found there (FSPIOP-Signature)")
    _add_log_level(p)


def sim_config(ns: argparse.Namespace) -> SimConfig:
    """The SimConfig the `sim` command's arguments describe."""
    from mojacheck.sim.config import DEFAULT_INBOX_SIZE, SimConfig

    return SimConfig(hub_url=ns.hub_url, routes=dict(ns.route), secrets=dict(ns.secret), delivery=ns.delivery,
                     timeout=ns.timeout, inbox_size=ns.inbox_size or DEFAULT_INBOX_SIZE,
                     jws_keys_dir=ns.jws_keys_dir)


def _sim(ns: argparse.Namespace) -> int:
    from mojacheck.sim.app import run

    run(sim_config(ns), host=ns.host, port=ns.port, log_level=ns.log_level)
    return 0


# ---------------------------------------------------------------- compare, snapshot, snapshot-diff


def _add_compare(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "compare", _compare,
                 help="compare two run folders (expected/unexpected differences), write the comparison notebook+HTML",
                 description="Compare two run folders; writes the executed comparison notebook, its HTML and "
                             "comparison.json.",
                 epilog="exit codes: 0 no unexpected difference, 1 unexpected differences, 2 could not compare")
    p.add_argument("run_a", type=Path, help="run folder, e.g. outputs/local/20261127T221500Z-3fa2c1")
    p.add_argument("run_b", type=Path)
    p.add_argument("--out", type=Path, default=None, help="default: outputs/compare/<A-id>__<B-id>/")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")


def _compare(ns: argparse.Namespace) -> int:
    from mojacheck.runner.compare import compare

    return compare(ns.run_a, ns.run_b, out=ns.out, root=ns.root)


def _add_snapshot(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "snapshot", _snapshot, help="save the hub's state as seen through its public APIs",
                 description="Save the hub's state as its public APIs show it (participants, accounts, positions, "
                             "limits, endpoints, oracles, settlement windows and settlements, and the transfers the "
                             "env's runs created).",
                 epilog="For an embedded hub that is not running, the hub and simulator are started for the "
                        "snapshot. exit codes: 0 saved, 2 could not be taken")
    p.add_argument("--env", required=True, help="params/<ENV>.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=_SET_HELP)
    p.add_argument("--out", type=Path, default=None, help="default: outputs/<env>/snapshots/<timestamp>.json")
    p.add_argument("--transfers", type=int, default=None, metavar="N",
                   help="read back at most the newest N transfer ids of the env's runs (default 200; 0: none)")
    p.add_argument("--output-root", type=Path, default=None, help="where the env's runs are (default: <root>/outputs)")
    p.add_argument("--root", type=Path, default=None)


def _snapshot(ns: argparse.Namespace) -> int:
    from mojacheck.runner.snapshot import take_snapshot

    return take_snapshot(ns.env, overrides=ns.overrides, out=ns.out, transfers=ns.transfers,
                         output_root=ns.output_root, root=ns.root)


def _add_snapshot_diff(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "snapshot-diff", _snapshot_diff,
                 help="what was lost, changed and new between two snapshots",
                 description="What was lost, changed and new between two snapshots (e.g. before and after an "
                             "upgrade).",
                 epilog="exit codes: 0 nothing lost, 1 something lost, 2 bad input")
    p.add_argument("a", type=Path, help="the earlier snapshot")
    p.add_argument("b", type=Path, help="the later snapshot")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the diff as JSON")


def _snapshot_diff(ns: argparse.Namespace) -> int:
    from mojacheck.runner.snapshot import diff_snapshots

    return diff_snapshots(ns.a, ns.b, json_out=ns.json)


# ---------------------------------------------------------------- upgrade


def _add_upgrade(commands: argparse._SubParsersAction) -> None:
    from mojacheck.runner.rehearsal import DEFAULT_NOTEBOOKS, DEFAULT_RELEASES

    p = _command(commands, "upgrade", _upgrade,
                 help="rehearse an upgrade (13 → 14 → 17) on the embedded hub and write the upgrade guide",
                 description="Rehearse an upgrade on the embedded hub: the suite at each release on one database, "
                             "hub-state snapshots around each upgrade, comparisons of consecutive runs, and the "
                             "upgrade guide notebook + HTML.",
                 epilog="exit codes: 0 every run passed, no unexpected difference, nothing lost; 1 otherwise; "
                        "2 the rehearsal could not be done")
    p.add_argument("--releases", default=",".join(DEFAULT_RELEASES), help="upgrade path (default: %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="default: outputs/upgrade/<UTC>-<hex>/")
    p.add_argument("--env", default="local", help="params/<ENV>.yaml with an embedded hub (default: local)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override one param for every run (ports and database are the rehearsal's own)")
    p.add_argument("--notebooks", default=",".join(DEFAULT_NOTEBOOKS),
                   help="the suite's notebooks to run at each release: name prefixes or globs (default: %(default)s)")
    p.add_argument("--transfers", type=int, default=None, metavar="N",
                   help="transfers read back per snapshot (default 200; 0: none)")
    p.add_argument("--no-compare-notebooks", dest="compare_notebooks", action="store_false",
                   help="skip `mojacheck compare`'s own notebook per upgrade (the guide compares anyway)")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")


def _upgrade(ns: argparse.Namespace) -> int:
    from mojacheck.runner.rehearsal import UpgradeOptions, rehearse

    options = UpgradeOptions(
        releases=ns.releases.split(","), env=ns.env, overrides=ns.overrides,
        notebooks=[n.strip() for n in ns.notebooks.split(",") if n.strip()], out=ns.out, root=ns.root,
        transfers=ns.transfers, compare_notebooks=ns.compare_notebooks)
    return rehearse(options).exit_code


# ---------------------------------------------------------------- specs


def _add_specs(commands: argparse._SubParsersAction) -> None:
    from mojacheck.evidence.specs import CACHE_ENV, PACKAGE, VERSION

    _command(commands, "specs", _specs,
             help=f"fetch the official FSPIOP API definitions (npm {PACKAGE} {VERSION}) into the user's cache",
             description=f"Fetch npm {PACKAGE} at the pinned version {VERSION} with the npm client, check its "
                         "integrity hash and unpack its docs/ (the FSPIOP OpenAPI files) into the cache that "
                         f"api.spec_dir defaults to: ${CACHE_ENV}, else ${{XDG_CACHE_HOME:-~/.cache}}/mojacheck. "
                         "Does nothing when the cache already holds it.",
             epilog="exit codes: 0 the cache holds the definitions, 2 they could not be fetched (no npm, no "
                    "network, integrity mismatch)")


def _specs(ns: argparse.Namespace) -> int:
    from mojacheck.runner.specs import fetch_specs

    return fetch_specs()


# ---------------------------------------------------------------- publish


def _add_publish(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "publish", _publish,
                 help="write a static, offline evidence index (index.html) over the run folders",
                 description="Write DIR/index.html and DIR/index.json: every run of the chosen environments, newest "
                             "first, with time, hub release, verdict, checks, links to its report and notebooks, and "
                             "each environment's trend chart. Runs are copied into DIR (their HTML, executed "
                             "notebooks, summary.json and junit.xml; runs already in DIR are kept) unless DIR is the "
                             "outputs folder itself. Every link is relative: upload DIR to any static host or open it "
                             "from disk.",
                 epilog="exit codes: 0 index written, 2 nothing to publish or DIR cannot be written")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--env", dest="envs", action="append", metavar="NAME",
                       help="publish this environment's runs (repeatable)")
    which.add_argument("--all", action="store_true", help="every environment with runs (in the outputs or in DIR)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="the site folder, e.g. public")
    p.add_argument("--output-root", type=Path, default=None, help="where the runs are (default: <root>/outputs)")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")


def _publish(ns: argparse.Namespace) -> int:
    from mojacheck.runner.publish import PublishOptions, publish

    options = PublishOptions(out=ns.out, envs=ns.envs or (), output_root=ns.output_root, root=ns.root)
    return publish(options).exit_code


# ---------------------------------------------------------------- load


def _positive_rate(text: str) -> float:
    value = float(text)
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"expected a rate ≥ 0 (0: unpaced), got {text!r}")
    return value


def _add_load(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "load", _load, help="load-test a hub with Locust (each worker a payer FSP) and reconcile",
                 description="Provision one payer FSP per Locust worker process and a payee party per user, run "
                             "Locust headless (FSPIOP lookup → quote → transfer, latency from request to callback), "
                             "then read every sent transfer back from the hub and check positions and the ledger. "
                             "Writes outputs/load/<UTC>-<hex>/: load.json, payments.jsonl, Locust's CSV and HTML.",
                 epilog="exit codes: 0 every payment ended as its kind expects and the reconciliation holds (nothing "
                        "lost, positions and ledger agree); 1 otherwise; 2 the load could not be run. On other "
                        "machines: mojacheck load --worker --master-host HOST --plan PLAN.json (README).")
    p.add_argument("--env", default="local", help="params/<ENV>.yaml (default: local)")
    p.add_argument("--params-file", type=Path, default=None, help="a params file (YAML/JSON) instead of --env")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=_SET_HELP)
    p.add_argument("--rate", type=_positive_rate, default=100.0,
                   help="payments started per second in total (default 100; 0: as fast as --users allow)")
    p.add_argument("--users", type=int, default=64, help="simulated payers paying at once (default 64: at 100/s each "
                                                         "pays every 0.64 s, so a payment may take that long before "
                                                         "the rate falls)")
    p.add_argument("--duration", type=float, default=30.0, metavar="S", help="seconds of load (default 30)")
    p.add_argument("--ramp", type=float, default=5.0, metavar="S", help="seconds to start every user (default 5)")
    p.add_argument("--mix", default="p2p", help="kinds and weights, e.g. p2p=90,unknown_party=5,expired=5 "
                                                "(kinds: p2p, transfer, unknown_party, expired)")
    p.add_argument("--amount", default="1", help="amount of each payment (default 1)")
    p.add_argument("--currency", default=None, help="default: the params' first currency")
    p.add_argument("--processes", type=int, default=None,
                   help="Locust worker processes here, each its own payer FSP (default: one per core)")
    p.add_argument("--null-hub", action="store_true",
                   help="against a stub that answers every request with its callback at once: the generator's ceiling")
    p.add_argument("--no-reconcile", dest="reconcile", action="store_false", help="skip reading transfers back")
    p.add_argument("--out", type=Path, default=None, help="default: outputs/load/<UTC>-<hex>/")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")
    dist = p.add_argument_group("several machines (README: load from several machines)")
    dist.add_argument("--expect-workers", type=int, default=None, metavar="N",
                      help="be the master: wait for N worker processes started elsewhere with --worker")
    dist.add_argument("--master-bind-host", default="127.0.0.1", help="where the master listens for workers")
    dist.add_argument("--master-port", type=int, default=5557)
    dist.add_argument("--worker", action="store_true", help="be workers of a master at --master-host")
    dist.add_argument("--master-host", default="127.0.0.1")
    dist.add_argument("--plan", type=Path, default=None, help="the master's plan.json (a worker's only input)")
    dist.add_argument("--callback-host", default="127.0.0.1",
                      help="the address the hub reaches this machine's payer FSPs at (default 127.0.0.1)")
    dist.add_argument("--callback-bind-host", default="127.0.0.1", help="where the callback receivers listen")
    dist.add_argument("--callback-port-base", type=int, default=0,
                      help="worker i listens on BASE+i (default: any free port)")


def _load(ns: argparse.Namespace) -> int:
    from mojacheck.runner.load import LoadOptions, load, run_worker

    if ns.worker:
        if ns.plan is None:
            print("mojacheck: load --worker needs --plan (the master's plan.json)", file=sys.stderr)
            return EXIT_USAGE
        return run_worker(ns.plan, ns.master_host, ns.master_port, ns.processes, ns.callback_host)
    options = LoadOptions(
        env=ns.env, params_file=ns.params_file, overrides=ns.overrides, rate=ns.rate or None, users=ns.users,
        duration_s=ns.duration, ramp_s=ns.ramp, mix=ns.mix, amount=ns.amount, currency=ns.currency,
        processes=ns.processes, expect_workers=ns.expect_workers, master_bind_host=ns.master_bind_host,
        master_port=ns.master_port, callback_host=ns.callback_host, callback_bind_host=ns.callback_bind_host,
        callback_port_base=ns.callback_port_base, null_hub=ns.null_hub, reconcile=ns.reconcile, out=ns.out,
        root=ns.root)
    return load(options).exit_code


def _add_null_hub(commands: argparse._SubParsersAction) -> None:
    p = _command(commands, "null-hub", _null_hub, help="serve a stub hub that answers every request with its "
                                                       "callback at once (the load generator's ceiling)",
                 description="A stub hub for `mojacheck load --null-hub`: no ledger, no checks.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=4050)
    p.add_argument("--log-level", default="warning")


def _null_hub(ns: argparse.Namespace) -> int:
    from mojacheck.load.nullhub import NullHub
    from mojacheck.server import serve

    serve(NullHub(), host=ns.host, port=ns.port, log_level=ns.log_level)
    return 0


# ---------------------------------------------------------------- bench


def _csv_ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def _add_bench(commands: argparse._SubParsersAction) -> None:
    from mojacheck.runner.bench import FIGURES

    p = _command(commands, "bench", _bench, help="measure the speed figures (suite, notebook overhead, P2P, hub "
                                                 "throughput, generator ceiling) against issue 15's baselines",
                 description="Measure on this machine and print each figure beside its baseline and target; "
                             "medians of --runs runs; results also to outputs/bench/<UTC>.json.",
                 epilog="exit codes: 0 every chosen figure was measured, 2 one could not be. Never a verdict.")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    p.add_argument("--only", default=",".join(FIGURES), help=f"figures, comma-separated (default: all of "
                                                              f"{','.join(FIGURES)})")
    p.add_argument("--levels", type=_csv_ints, default=[1, 8, 32, 64], help="in-flight levels for hub (1,8,32,64)")
    p.add_argument("--duration", type=float, default=15.0, metavar="S", help="seconds per load run (default 15)")
    p.add_argument("--p2p-payments", type=int, default=100, help="payments per P2P latency run (default 100)")
    p.add_argument("--out", type=Path, default=None, help="default: outputs/bench/<UTC>.json")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")


def _bench(ns: argparse.Namespace) -> int:
    from mojacheck.runner.bench import BenchOptions, bench

    return bench(BenchOptions(runs=ns.runs, only=[f.strip() for f in ns.only.split(",") if f.strip()],
                              levels=ns.levels, duration_s=ns.duration, p2p_payments=ns.p2p_payments, out=ns.out,
                              root=ns.root))


if __name__ == "__main__":
    sys.exit(main())
