"""Every command the README shows runs, in the README's order, in one scratch folder.

Shell blocks run as written except for what a test must change, and says so here:
- `/tmp/` becomes the test's scratch folder and every `--duration N` becomes a few seconds;
- `arbkit sandbox serve` without `--duration` (a server meant for a second terminal) runs in the
  background until its block ends;
- `make <target>` runs this checkout's Makefile on this checkout's venv (`make demo` with a short
  demo written into the scratch folder, `make notebooks` writing into it); `make test` is this
  suite and is not run again;
- the user's `arbkit.toml` and overnight `recordings/` are stood in for by the config of the
  sandbox the "Try it" block started and the recording it made, and a run directory `runs/NAME`
  an example reads but no earlier block wrote by a replay of that recording.
Blocks whose first line is `# needs ...` need Kalshi credentials or the real venues: their
`arbkit` commands are parsed by the real command line (options, types) but not run. TOML blocks
must be valid arbkit configs; SQL blocks run in DuckDB (over the files they name, or else over the
analytics views of the recording and its runs); Python blocks run; the systemd unit's
`ExecStart` parses.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import duckdb
import pytest

from arbkit.analytics import connect
from arbkit.cli import cli
from arbkit.config import parse_config

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DURATION_S = 6
SANDBOX_DIR = "sb"  # /tmp/sb in the README

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int

    @property
    def needs(self) -> str | None:
        """What a `# needs ...` block needs, or None for a block the tests run."""
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        return first[len("# needs "):] if first.startswith("# needs ") else None


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for found in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, found.start()) + 1
        blocks.append(Block(found.group(1), found.group(2), line))
    return blocks


BLOCKS = [b for b in readme_blocks() if b.lang in ("sh", "bash", "toml", "sql", "ini", "python")]


def _arbkit_commands(script: str) -> list[list[str]]:
    """The argv of every `arbkit ...` command in a shell script (also inside quoted strings)."""
    commands = []
    for line in script.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for tokens in _argvs(shlex.split(line)):
            commands.append(tokens)
    return commands


def _argvs(tokens: list[str]) -> list[list[str]]:
    found = []
    for i, token in enumerate(tokens):
        if " " in token and re.search(r"(^|[\s;])arbkit ", token):
            found.extend(_argvs(shlex.split(token)))
        elif token == "arbkit" or token.endswith("/bin/arbkit"):
            argv = []
            for rest in tokens[i + 1:]:
                if rest in ("&", "&&", "|", ";", "||") or rest.startswith((">", "2>")):
                    break
                argv.append(rest)
            found.append(argv)
            break
    return found


def _parse_with_the_cli(argv: list[str]) -> None:
    """Parse `arbkit argv` with the real click command tree without running it."""
    command: click.Command = cli
    args = list(argv)
    while isinstance(command, click.Group):
        assert args, f"arbkit {' '.join(argv)}: no subcommand"
        name, args = args[0], args[1:]
        sub = command.get_command(click.Context(command), name)
        assert sub is not None, f"unknown command {name!r} in: arbkit {' '.join(argv)}"
        command = sub
    command.make_context(name, args)


def _work_folder(tmp_path: Path) -> Path:
    """The scratch folder the README's commands run in, with the venv where `. .venv/...` expects it."""
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "activate").exists():
        pytest.skip(f"not running from a venv with bin/activate ({venv})")
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    return tmp_path


def _rewrite(script: str, work: Path) -> str:
    script = script.replace("/tmp/", f"{work}/")
    script = re.sub(r"--duration \d+(\.\d+)?", f"--duration {DURATION_S}", script)
    lines = []
    for line in script.splitlines():
        stripped = line.split(" #", 1)[0].strip()
        make = re.match(r"^((?:\w+=\S+ )*)make (\w+)(.*)$", stripped)
        if make:
            env, target, rest = make.groups()
            if target == "test":
                lines.append(": make test is the suite running this test")
                continue
            extra = ""
            if target == "demo" and "DEMO_ARGS" not in rest:
                extra = f' DEMO_ARGS="--duration {DURATION_S} --out {work}/demo"'
            if target == "notebooks":
                extra = f" NOTEBOOKS_OUT={work}/reports DEMO_LATEST={work}/demo/latest"
            lines.append(f"{env}make -C {REPO} {target}{rest}{extra} 2>&1 | tee -a make.log")
        elif stripped.startswith("arbkit sandbox serve") and "--duration" not in stripped:
            workdir = re.search(r"--workdir (\S+)", stripped).group(1)
            lines += [
                f"{stripped} > sandbox.log 2>&1 &",
                "SANDBOX_PID=$!",
                "trap 'kill -TERM $SANDBOX_PID; wait $SANDBOX_PID' EXIT",
                # the config is written once both servers listen
                f"for _ in $(seq 300); do [ -s {workdir}/arbkit.toml ] && break; sleep 0.1; done",
            ]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _stand_in_for_the_users_config(block: Block, work: Path) -> None:
    mine = work / "arbkit.toml"
    if re.search(r"(?<![/\w])arbkit\.toml", block.text) and not mine.exists():
        sandbox_config = work / SANDBOX_DIR / "arbkit.toml"
        assert sandbox_config.exists(), "the 'Try it' block should have started the sandbox first"
        shutil.copy(sandbox_config, mine)
        shutil.copy(work / SANDBOX_DIR / "kalshi-sandbox.pem", work / "kalshi-sandbox.pem")


def _stand_in_for_missing_runs(block: Block, work: Path) -> None:
    written = set(re.findall(r"--out (runs/[\w-]+)", block.text))
    for run in sorted(set(re.findall(r"(?<![\w/])(runs/[\w-]+)", block.text)) - written):
        if not (work / run).exists():
            done = subprocess.run(
                [sys.executable, "-c", "from arbkit.cli import main; main()", "replay", "--from", "recordings",
                 "--config", f"{SANDBOX_DIR}/arbkit.toml", "--out", run],
                cwd=work, capture_output=True, text=True, timeout=300, check=False,
            )
            assert done.returncode == 0, done.stderr


def _venv_is_this_checkouts() -> bool:
    return Path(sys.prefix).resolve() == (REPO / ".venv").resolve()


STATIC = [b for b in BLOCKS if b.lang in ("toml", "ini") or b.needs is not None]
RUN = [b for b in BLOCKS if b not in STATIC]


@pytest.mark.parametrize("block", STATIC, ids=[f"line{b.line}-{b.lang}" for b in STATIC])
def test_readme_block_that_is_not_run_is_valid(block: Block, tmp_path: Path):
    if block.lang == "toml" and block.text.startswith("# grid.toml"):
        from arbkit.sweep.grid import parse_grid

        assert parse_grid(block.text, source=f"README.md:{block.line}")
        return
    if block.lang == "toml":
        parse_config(block.text, base_dir=tmp_path, source=f"README.md:{block.line}")
        return
    if block.lang == "ini":
        unit = configparser.ConfigParser(interpolation=None, strict=False)
        unit.optionxform = str
        unit.read_string(block.text)
        script = unit["Service"]["ExecStart"]
    else:
        script = block.text
    commands = _arbkit_commands(script)
    for command in commands:
        _parse_with_the_cli(command)
    # Only blocks for other tools (systemd, a key file, the AWS CLI) may hold no arbkit command.
    assert commands or any(tool in str(block.needs) for tool in ("systemd", "key file", "AWS")), block.text


@pytest.mark.timeout(1500)
def test_readme_commands_run_in_order(tmp_path: Path, monkeypatch):
    """One test, because each block builds on the ones before it (as it does for a reader)."""
    work = _work_folder(tmp_path)
    if not _venv_is_this_checkouts():
        pytest.skip("`make` blocks need this checkout's .venv (run the suite through `make test`)")
    for block in RUN:
        _run_block(block, work, monkeypatch)
    _check_the_disk_use_the_readme_states(work)


def _run_block(block: Block, work: Path, monkeypatch) -> None:
    where = f"README.md:{block.line}"
    _stand_in_for_the_users_config(block, work)
    _stand_in_for_missing_runs(block, work)
    if block.lang == "sql":
        monkeypatch.chdir(work)  # the examples name their files relative to where the user stands
        if re.search(r"'[^']+\.parquet'", block.text):
            duckdb.connect().sql(block.text).fetchall()
            return
        con = connect("recordings", {run.name: run for run in sorted((work / "runs").iterdir())})
        for statement in filter(str.strip, block.text.split(";")):
            con.sql(statement).fetchall()
        return
    if block.lang == "python":
        done = subprocess.run([sys.executable, "-c", block.text], cwd=work, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{where} failed:\n{done.stderr[-3000:]}"
        return
    for command in _arbkit_commands(block.text):
        _parse_with_the_cli(command)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MAKEFLAGS", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _rewrite(block.text, work)], cwd=work,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{where} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    if re.search(r"^make demo", block.text, re.M):
        assert "pip install" not in done.stdout + done.stderr, "make demo reinstalled instead of reusing the venv"
        reports = re.findall(r"^report: (\S+\.html)$", done.stdout, re.M)
        assert reports and Path(reports[-1]).exists(), done.stdout[-2000:]


def _check_the_disk_use_the_readme_states(work: Path) -> None:
    readme = README.read_text(encoding="utf-8")
    sealed = int(re.search(r"about (\d+) bytes per frame\*\*", readme).group(1))
    journal = int(re.search(r"journal at about (\d+) bytes per frame", readme).group(1))
    files = sorted((work / "recordings" / "frames").rglob("*.parquet"))
    assert files, "the 'Try it' block made no recording"
    con = duckdb.connect()
    frames, payload = con.execute(
        "SELECT count(*), sum(octet_length(payload)) FROM read_parquet(?)", [[str(f) for f in files]]
    ).fetchall()[0]
    on_disk = sum(f.stat().st_size for f in files)
    # A recording of a few seconds compresses less well than the minute the README measured.
    assert sealed / 2 <= on_disk / frames <= sealed * 2, on_disk / frames
    assert journal / 2 <= payload / frames <= journal * 1.5, payload / frames
