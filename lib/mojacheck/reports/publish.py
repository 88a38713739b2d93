"""The evidence index (`mojacheck publish`): one static `index.html` (and `index.json`) over a site folder laid out
as outputs are, `<site>/<env>/<run-id>/`, with each run's time, hub release, verdict, checks and links to its report
and notebooks, newest first, and each environment's trend chart.

The page is written for any static host and for `file://`: every link is relative, images are embedded as data URIs,
there is no script and nothing is fetched from anywhere. Only artefacts are read (summary.json and the names of the
files in each run folder), so the index can be rebuilt on any machine from a downloaded site.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mojacheck.reports import trends

__all__ = [
    "REPORT", "RESERVED", "EnvIndex", "RunEntry", "index_data", "is_env_dir", "is_run_file", "read_env",
    "render_index", "run_folders", "trend_png", "verdict_of",
]

REPORT = "90_run_report"
# Folders of outputs/ that hold other commands' results, not an environment's runs.
RESERVED = frozenset({"compare", "upgrade"})
_VERDICTS = {  # verdict → (label, background, text colour)
    "passed": ("PASSED", "#e6f4ea", "#1e7e34"),
    "failed": ("FAILED", "#fdecea", "#b00020"),
    "error": ("COULD NOT RUN", "#fff4e5", "#8a4b00"),
    "interrupted": ("INTERRUPTED", "#fff4e5", "#8a4b00"),
    "unfinished": ("NO SUMMARY", "#eef0f3", "#4a5568"),
    "unreadable": ("UNREADABLE", "#eef0f3", "#4a5568"),
}


def run_folders(env_dir: Path) -> list[Path]:
    """The run folders of an environment folder, as the runner names them (`<UTC stamp>-<hex>`): real folders
    whose name starts with a digit (not `latest`, which is a link, nor `snapshots`)."""
    if not env_dir.is_dir():
        return []
    return sorted(p for p in env_dir.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit())


def is_run_file(path: Path) -> bool:
    """What a published run keeps: the notebooks' HTML and executed notebooks, summary.json and junit.xml (not the
    services' logs nor the hub's database)."""
    name = path.name
    if name in ("summary.json", "junit.xml"):
        return True
    return name[:2].isdigit() and name[2:3] == "_" and path.suffix in (".html", ".ipynb")


def is_env_dir(folder: Path) -> bool:
    """An environment's folder: not one of the reserved ones (the upgrade rehearsal's, the comparisons'), with at
    least one run folder; an empty one counts (a run that could not start is news too)."""
    if folder.name in RESERVED or not folder.is_dir() or folder.is_symlink():
        return False
    return bool(run_folders(folder))


@dataclass
class RunEntry:
    """One run as the index shows it: its summary (None when it has none or it does not parse) and its files."""

    env: str
    run_id: str
    summary: dict[str, Any] | None
    files: list[str]  # names of the published files in the run folder
    problem: str | None = None  # why summary.json could not be read

    @property
    def verdict(self) -> str:
        if self.summary is None:
            return "unreadable" if self.problem else "unfinished"
        return verdict_of(self.summary)

    @property
    def started(self) -> str:
        return str((self.summary or {}).get("started") or "")

    @property
    def release(self) -> str:
        return str(((self.summary or {}).get("hub") or {}).get("release") or "")

    @property
    def totals(self) -> dict[str, Any]:
        totals = (self.summary or {}).get("totals")
        return totals if isinstance(totals, dict) else {}

    def notebooks(self) -> list[dict[str, Any]]:
        """Each notebook of the run, in run order: name, status (from the summary, when it says) and its files (HTML
        None when it could not be rendered, ipynb None when not kept)."""
        status = {n.get("name"): n.get("status") for n in (self.summary or {}).get("notebooks", [])
                  if isinstance(n, dict)}
        stems = sorted({f.rsplit(".", 1)[0] for f in self.files if f.endswith((".html", ".ipynb"))})
        return [{"name": s, "status": status.get(s), "html": f"{s}.html" if f"{s}.html" in self.files else None,
                 "ipynb": f"{s}.ipynb" if f"{s}.ipynb" in self.files else None} for s in stems]

    def link(self, name: str) -> str:
        """A relative link from the site's index to a file of this run."""
        return "/".join(quote(part) for part in (self.env, self.run_id, name))


@dataclass
class EnvIndex:
    """One environment's runs (newest first) and its trend chart (a PNG data URI; None before two finished runs)."""

    env: str
    runs: list[RunEntry] = field(default_factory=list)
    trend: str | None = None
    trend_note: str = ""


def verdict_of(summary: dict[str, Any]) -> str:
    """The run's verdict as its exit code told it: `interrupted` when a signal stopped it (130, 143), `error` when it
    stopped early otherwise or a notebook stopped outside a check (2), `failed` when a check failed (1), else
    `passed` (0)."""
    stopped = summary.get("stopped")
    if isinstance(stopped, dict):
        return "interrupted" if stopped.get("signal") else "error"
    notebooks = [n for n in summary.get("notebooks", []) if isinstance(n, dict)]
    if any(n.get("status") == "error" for n in notebooks):
        return "error"
    totals = summary.get("totals") or {}
    if int(totals.get("failed") or 0) or any(n.get("status") == "failed" for n in notebooks):
        return "failed"
    return "passed"


def _read_run(env: str, folder: Path) -> RunEntry:
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink() and is_run_file(p))
    path = folder / "summary.json"
    if not path.is_file():
        return RunEntry(env, folder.name, None, files)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RunEntry(env, folder.name, None, files, problem=f"{type(exc).__name__}: {exc}")
    if not isinstance(data, dict):
        return RunEntry(env, folder.name, None, files, problem="summary.json is not a JSON object")
    return RunEntry(env, folder.name, data, files)


def read_env(site: Path, env: str, *, with_trend: bool = True) -> EnvIndex:
    """Every run folder of `site/env`, newest first (by start time; the run id, which starts with it, when a run
    has no summary), and the env's trend chart."""
    runs = [_read_run(env, folder) for folder in run_folders(site / env)]
    runs.sort(key=lambda r: (_moment(r), r.run_id), reverse=True)
    index = EnvIndex(env, runs)
    if with_trend:
        history = trends.load_history(site / env)
        index.trend = trend_png(history)
        index.trend_note = _trend_note(history)
    return index


def _moment(run: RunEntry) -> datetime:
    """When the run started: its summary says; without one, its id starts with the UTC stamp the runner gave it."""
    for text, form in ((run.started.replace("Z", "+00:00"), None), (run.run_id[:16], "%Y%m%dT%H%M%SZ")):
        try:
            moment = datetime.strptime(text, form) if form else datetime.fromisoformat(text)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _trend_note(history: trends.History) -> str:
    """Why there is no chart, and the run folders the chart leaves out (unfinished, unreadable)."""
    n = len(history.summaries)
    lines = [] if n >= 2 else ["No trend yet: it starts with the second finished run." if n else
                               "No finished run, so no trend."]
    return "\n".join(lines + trends.describe(history).splitlines()[1:])


def trend_png(history: trends.History) -> str | None:
    """The trend chart (pass rate and duration over time) as a PNG data URI; None with fewer than two finished runs
    (one point draws no trend, and matplotlib spreads a lone date over years)."""
    runs = trends.runs_frame(history)
    if len(runs) < 2:
        return None
    figure = trends.trend_chart(runs)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# ---------------------------------------------------------------- rendering


def _when(iso: str) -> str:
    """`2026-11-28T08:46:00.123Z` → `2026-11-28 08:46 UTC` (the runner writes UTC)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return ""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _badge(verdict: str) -> str:
    label, background, colour = _VERDICTS[verdict]
    return f"<span class='badge' style='background:{background};color:{colour}'>{label}</span>"


def _a(href: str, text: str, cls: str = "") -> str:
    extra = f" class='{cls}'" if cls else ""
    return f"<a href='{html.escape(href, quote=True)}'{extra}>{html.escape(text)}</a>"


def _notebook_links(run: RunEntry) -> str:
    links = []
    for nb in run.notebooks():
        cls = {"failed": "nb-failed", "error": "nb-error"}.get(nb["status"] or "", "")
        link = _a(run.link(nb["html"]), nb["name"], cls) if nb["html"] else html.escape(nb["name"])
        if nb["ipynb"]:
            link += f" <small>({_a(run.link(nb['ipynb']), 'ipynb')})</small>"
        links.append(link)
    return "<br>".join(links) or "<i>no notebook</i>"


def _run_row(run: RunEntry) -> str:
    t = run.totals
    if run.summary is None:
        checks = html.escape(run.problem or _NO_SUMMARY)
    else:
        failed = int(t.get("failed") or 0)
        checks = f"{int(t.get('passed') or 0)} passed, " + (f"<b>{failed} failed</b>" if failed else "0 failed")
        stopped = run.summary.get("stopped")
        if isinstance(stopped, dict):
            not_run = ", ".join(str(n) for n in stopped.get("not_run") or []) or "none"
            checks += (f"<br><small>stopped early: {html.escape(str(stopped.get('reason') or ''))}; "
                       f"not run: {html.escape(not_run)}</small>")
    report = _a(run.link(f"{REPORT}.html"), "run report") if f"{REPORT}.html" in run.files else "—"
    data = [_a(run.link(f), f) for f in ("summary.json", "junit.xml") if f in run.files]
    cells = [
        html.escape(_when(run.started)) if run.started else "<i>unknown</i>",
        f"<code>{html.escape(run.run_id)}</code>",
        html.escape(run.release) or "—",
        _badge(run.verdict),
        checks,
        html.escape(_duration((run.summary or {}).get("duration_s"))),
        report,
        _notebook_links(run),
        " ".join(data) or "—",
    ]
    return f"<tr class='run {run.verdict}' id='{html.escape(run.env)}--{html.escape(run.run_id)}'>" + "".join(
        f"<td>{c}</td>" for c in cells) + "</tr>"


_NO_SUMMARY = "no summary.json: did not finish (could not start, crashed, interrupted) or is still running"
_RUN_HEAD = ("started", "run", "release", "verdict", "checks", "duration", "report", "notebooks", "data")


def _env_section(env: EnvIndex) -> str:
    anchor = html.escape(f"env-{env.env}", quote=True)
    count = f"{len(env.runs)} run{'' if len(env.runs) == 1 else 's'}"
    parts = [f"<section id='{anchor}'><h2>{html.escape(env.env)} <small>{count}</small></h2>"]
    if env.trend:
        parts.append(f"<img class='trend' alt='trend of {html.escape(env.env)}: pass rate and duration per run' "
                     f"src='{env.trend}'>")
    if env.trend_note:
        parts.append(f"<p class='note'>{html.escape(env.trend_note).replace(chr(10), '<br>')}</p>")
    head = "".join(f"<th>{h}</th>" for h in _RUN_HEAD)
    rows = "\n".join(_run_row(r) for r in env.runs)
    parts.append(f"<table class='runs'><thead><tr>{head}</tr></thead><tbody>\n{rows}\n</tbody></table></section>")
    return "\n".join(parts)


def _overview(envs: list[EnvIndex]) -> str:
    rows = []
    for env in envs:
        latest = env.runs[0] if env.runs else None
        counts = {v: sum(1 for r in env.runs if r.verdict == v) for v in _VERDICTS}
        tally = ", ".join(f"{n} {_VERDICTS[v][0].lower()}" for v, n in counts.items() if n)
        cells = [_a(f"#env-{env.env}", env.env),
                 _badge(latest.verdict) if latest else "—",
                 html.escape(_when(latest.started)) if latest and latest.started else "—",
                 html.escape(latest.release) if latest else "—",
                 f"{len(env.runs)} ({html.escape(tally)})"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("environment", "latest verdict", "latest run", "release", "runs"))
    return f"<table class='overview'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2933;max-width:1500px}
h1{margin-bottom:4px} h2{margin-top:36px;border-bottom:1px solid #d9dee5;padding-bottom:4px}
h2 small{font-weight:normal;color:#52606d;font-size:.6em}
table{border-collapse:collapse;margin:8px 0 16px} th,td{border:1px solid #d9dee5;padding:4px 8px;vertical-align:top;
text-align:left;font-size:14px} th{background:#f5f7fa}
.badge{display:inline-block;padding:1px 8px;border-radius:4px;font-weight:600;font-size:12px;white-space:nowrap}
.nb-failed{color:#b00020;font-weight:600} .nb-error{color:#8a4b00;font-weight:600}
.note{color:#52606d;font-size:13px} .trend{max-width:800px;display:block} .meta{color:#52606d}
"""


def render_index(envs: list[EnvIndex], *, generated: datetime, title: str = "mojacheck evidence") -> str:
    """The whole index page: an overview line per environment, then each environment's trend and runs."""
    n_runs = sum(len(e.runs) for e in envs)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>{len(envs)} environments, {n_runs} runs · generated "
        f"{html.escape(generated.strftime('%Y-%m-%d %H:%M UTC'))} by <code>mojacheck publish</code> · "
        f"machine-readable: {_a('index.json', 'index.json')}</p>",
        _overview(envs),
        *(_env_section(e) for e in envs),
    ]
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def index_data(envs: list[EnvIndex], *, generated: datetime) -> dict[str, Any]:
    """The same index as data (`index.json`): for scripts that want the newest verdict of an env, say."""
    def run_data(r: RunEntry) -> dict[str, Any]:
        t = r.totals
        return {"run_id": r.run_id, "started": r.started or None, "release": r.release or None,
                "verdict": r.verdict, "duration_s": (r.summary or {}).get("duration_s"),
                "stopped": (r.summary or {}).get("stopped"),
                "checks": t.get("checks"), "passed": t.get("passed"), "failed": t.get("failed"),
                "report": r.link(f"{REPORT}.html") if f"{REPORT}.html" in r.files else None,
                "notebooks": [{"name": nb["name"], "status": nb["status"],
                               "html": r.link(nb["html"]) if nb["html"] else None,
                               "ipynb": r.link(nb["ipynb"]) if nb["ipynb"] else None} for nb in r.notebooks()],
                "summary": r.link("summary.json") if "summary.json" in r.files else None,
                "junit": r.link("junit.xml") if "junit.xml" in r.files else None}

    return {"generated": generated.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "envs": [{"env": e.env, "runs": [run_data(r) for r in e.runs]} for e in envs]}
