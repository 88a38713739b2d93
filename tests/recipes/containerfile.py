"""Read the Containerfile, and replay its build and its default command on a machine without a container runtime.

What a replay does, instruction by instruction, for every stage:
* `FROM`: a fresh venv of a Python 3.11 interpreter of this machine (standing in for the base image's Python; its
  `bin/` is first on PATH, so `python`, `pip` and installed scripts resolve there as in the image);
* `ENV`, `WORKDIR`, `COPY` (from the build context, filtered by .dockerignore, or `--from` an earlier stage), `RUN`
  (with /bin/sh), `USER`, `ENTRYPOINT`, `CMD`: as a builder does, with every absolute path of the image moved under
  the stage's own folder (its "root file system");
* `groupadd`/`useradd`/`install -o` need a real root file system: no user is added to this machine; the user's home
  and the folders `install -d -o USER` makes are created owned by the image's numeric uid instead.
Pip's cache is left on (the image turns it off only to stay small), which changes nothing that gets installed.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

USER_COMMANDS = ("groupadd", "useradd")


@dataclass
class Instruction:
    keyword: str  # upper case
    args: str
    line: int


@dataclass
class Stage:
    name: str | None
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines, current, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not current:
            start = number
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append((start, current + stripped))
        current = ""
    return lines


def _substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), m.group(0)), text)


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, in order."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for number, line in _logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            words = _substitute(rest, args).split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(name, words[0]))
        else:
            stages[-1].instructions.append(Instruction(keyword, rest, number))
    return args, stages


def env_pairs(args: str) -> list[tuple[str, str]]:
    """`ENV A=1 B="two words"` → [(A, 1), (B, two words)]."""
    return [tuple(word.split("=", 1)) for word in shlex.split(args)]  # type: ignore[misc]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not exec form: {args}"
    return value


# ---------------------------------------------------------------- build context


def _ignore_rules(context: Path) -> list[tuple[bool, str]]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    rules = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((line.startswith("!"), line.lstrip("!").rstrip("/")))
    return rules


def _ignored(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last matching pattern wins; a folder's pattern covers what is inside it."""
    parts = relative.split("/")
    ignored = False
    for include, pattern in rules:
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(p, pattern[3:]) for p in parts)
        else:
            hit = any(fnmatch.fnmatch(p, pattern) for p in prefixes)
        if hit:
            ignored = not include
    return ignored


def build_context(repo: Path, target: Path) -> Path:
    """The files a builder would send: the checkout's tracked and untracked-but-not-ignored files, less
    .dockerignore's exclusions."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout.split("\n")
    rules = _ignore_rules(repo)
    for relative in filter(None, listed):
        source = repo / relative
        if source.is_file() and not _ignored(relative, rules):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    return target


# ---------------------------------------------------------------- replay


@dataclass
class Built:
    """One replayed stage: where its root file system and Python are, and what the image would start with."""

    name: str | None
    root: Path
    python: Path
    env: dict[str, str]
    workdir: Path
    user: str | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def path(self, image_path: str) -> Path:
        """Where an absolute path of the image is in this replay."""
        return self.root / image_path.lstrip("/")

    @property
    def uid(self) -> int | None:
        return int(self.user.split(":")[0]) if self.user and self.user.split(":")[0].isdigit() else None


class Replay:
    def __init__(self, containerfile: Path, context: Path, work: Path, python: str) -> None:
        self.args, self.stages = parse(containerfile)
        self.context = context
        self.work = work
        self.python = python
        self.built: list[Built] = []

    def build(self) -> list[Built]:
        for index, stage in enumerate(self.stages):
            self.built.append(self._stage(index, stage))
        return self.built

    def _stage(self, index: int, stage: Stage) -> Built:
        root = self.work / f"stage{index}-{stage.name or 'final'}"
        venv = self.work / f"stage{index}-python"
        subprocess.run([self.python, "-m", "venv", str(venv)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOJACHECK_", "PIP_", "VIRTUAL_ENV",
                                                                         "XDG_", "JUPYTER", "PYTHON"))}
        env.update(PATH=f"{venv / 'bin'}:{os.environ['PATH']}", HOME=str(root / "root"))
        built = Built(stage.name, root, venv / "bin" / "python", env, root)
        (root / "root").mkdir(parents=True)
        for instruction in stage.instructions:
            self._apply(built, instruction)
        return built

    def _map(self, built: Built, text: str) -> str:
        """Absolute paths of the image → the same paths under the stage's root."""
        return re.sub(r"(?<![\w./$-])/(?=[A-Za-z])", str(built.root) + "/", text)

    def _apply(self, built: Built, ins: Instruction) -> None:
        handler = getattr(self, f"_{ins.keyword.lower()}", None)
        if handler is None:
            built.log.append(f"line {ins.line}: {ins.keyword} has no effect on a replay")
            return
        handler(built, ins.args)

    def _arg(self, built: Built, args: str) -> None:
        name, _, default = args.partition("=")
        built.env.setdefault(name, self.args.get(name, default))

    def _label(self, built: Built, args: str) -> None:
        built.log.append(f"LABEL {args}")

    def _env(self, built: Built, args: str) -> None:
        if "PIP_NO_CACHE_DIR" in args:
            built.log.append("ENV PIP_NO_CACHE_DIR: pip's cache is kept on in a replay (nothing installed changes)")
        for name, value in env_pairs(args):
            if name != "PIP_NO_CACHE_DIR":
                built.env[name] = self._map(built, value) if value.startswith("/") else value

    def _workdir(self, built: Built, args: str) -> None:
        built.workdir = Path(self._map(built, args)) if args.startswith("/") else built.workdir / args
        built.workdir.mkdir(parents=True, exist_ok=True)

    def _copy(self, built: Built, args: str) -> None:
        words = shlex.split(args)
        source_root = self.context
        if words[0].startswith("--from="):
            stage = next(b for b in self.built if b.name == words.pop(0).split("=", 1)[1])
            source_root = stage.root
        *sources, dest = words
        target = Path(self._map(built, dest)) if dest.startswith("/") else built.workdir / dest
        for source in sources:
            path = source_root / source.lstrip("/")
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                into = target / path.name if dest.endswith("/") or len(sources) > 1 else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, into)

    def _run(self, built: Built, args: str) -> None:
        commands = [c.strip() for c in args.split("&&")]
        kept = [c for c in (self._system(built, c) for c in commands) if c]
        if kept:
            subprocess.run(["/bin/sh", "-c", self._map(built, " && ".join(kept))], cwd=built.workdir,
                           env=built.env, check=True)

    def _system(self, built: Built, command: str) -> str | None:
        """What stands in for commands that change the machine's users: their folders, owned by the image's uid."""
        words = shlex.split(command)
        uid = self._image_uid()
        if words[0] == "useradd":
            home = words[words.index("--home-dir") + 1]
            built.log.append(f"replaced: {command!r} → {home} owned by uid {uid}")
            return f"install -d -o {uid} -g {uid} {home}"
        if words[0] in USER_COMMANDS:
            built.log.append(f"skipped: {command!r} (no user is added to this machine)")
            return None
        if words[0] == "install" and "-o" in words:
            folders = [w for w in words[1:] if w.startswith("/")]
            built.log.append(f"replaced: {command!r} → {' '.join(folders)} owned by uid {uid}")
            return f"install -d -o {uid} -g {uid} {' '.join(folders)}"
        return command

    def _image_uid(self) -> int:
        users = [i.args for s in self.stages for i in s.all("USER")]
        return int(users[-1].split(":")[0]) if users else os.getuid()

    def _user(self, built: Built, args: str) -> None:
        built.user = args

    def _volume(self, built: Built, args: str) -> None:
        built.volumes += exec_form(args) if args.startswith("[") else args.split()

    def _entrypoint(self, built: Built, args: str) -> None:
        built.entrypoint = exec_form(args)

    def _cmd(self, built: Built, args: str) -> None:
        built.cmd = exec_form(args)


def base_python() -> str:
    """A Python 3.11 of this machine that another user may run too (the image's user runs the replayed command):
    $MOJACHECK_CONTAINER_PYTHON, else Debian's, else this one."""
    for candidate in (os.environ.get("MOJACHECK_CONTAINER_PYTHON"), "/usr/bin/python3.11", sys.executable):
        if candidate and Path(candidate).is_file():
            return candidate
    raise AssertionError("no Python 3.11 to replay the build with")
