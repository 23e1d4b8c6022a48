"""The notebooks run top to bottom (nbclient) on a small sandbox recording, and are committed clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> dict[str, Path]:
    """A generated sandbox recording of two pairs with a few dislocations, and its replay."""
    tmp = tmp_path_factory.mktemp("nb")
    root, run = tmp / "recordings", tmp / "run"
    for args in (
        ["sandbox", "generate", "--out", str(root), "--frames", "6000", "--pairs", "2", "--rate", "50", "--seed", "3"],
        ["replay", "--from", str(root), "--config", str(root / "arbkit.toml"), "--out", str(run)],
    ):
        subprocess.run([*ARBKIT, *args], check=True, capture_output=True, timeout=120)
    return {"recording": root, "run": run, "config": root / "arbkit.toml"}


def _execute(name: str, env: dict[str, str], monkeypatch, cwd: Path) -> nbformat.NotebookNode:
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook


def _outputs(notebook: nbformat.NotebookNode, mime: str) -> list[str]:
    return [
        output["data"][mime]
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs if mime in output.get("data", {})
    ]


def _env(recording: dict[str, Path], run: str | None = None) -> dict[str, str]:
    return {
        "ARBKIT_RECORDING": str(recording["recording"]),
        "ARBKIT_RUN": str(recording["run"]) if run is None else run,
        "ARBKIT_CONFIG": str(recording["config"]),
    }


def test_the_three_notebooks_are_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_recording_health.ipynb", "02_opportunities.ipynb", "03_backtest_sensitivity.ipynb"]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        first = code[0].source
        assert all(var in first for var in ("ARBKIT_RECORDING", "ARBKIT_RUN", "ARBKIT_CONFIG")), path.name


def test_recording_health_runs_and_plots_the_recording(recording, monkeypatch, tmp_path):
    notebook = _execute("01_recording_health.ipynb", _env(recording), monkeypatch, tmp_path)
    assert len(_outputs(notebook, "image/png")) == 3
    assert str(recording["recording"]) in notebook.cells[0].outputs[0]["text"]


@pytest.mark.parametrize("run", [None, ""], ids=["with-run", "replays-itself"])
def test_opportunities_runs_on_a_given_run_or_replays_the_recording(recording, monkeypatch, tmp_path, run):
    notebook = _execute("02_opportunities.ipynb", _env(recording, run), monkeypatch, tmp_path)
    assert len(_outputs(notebook, "image/png")) == 3
    tables = "\n".join(_outputs(notebook, "text/html"))
    assert "Sandbox" in tables  # the pairs' names reach the tables


def test_sensitivity_replays_the_grid_and_plots_the_capture_curve(recording, monkeypatch, tmp_path):
    notebook = _execute("03_backtest_sensitivity.ipynb", _env(recording), monkeypatch, tmp_path)
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert "21 replays under" in printed
    assert len(_outputs(notebook, "image/png")) == 2


def test_sensitivity_reads_a_sweep_instead_of_replaying(recording, monkeypatch, tmp_path):
    grid, sweep = tmp_path / "grid.toml", tmp_path / "sweep"
    grid.write_text("latency.kalshi_ms = [0, 250]\ndetector.min_edge = [0.005, 0.02]\n")
    subprocess.run([*ARBKIT, "sweep", "--from", str(recording["recording"]), "--config", str(recording["config"]),
                    "--grid", str(grid), "--out", str(sweep), "--workers", "2"],
                   check=True, capture_output=True, timeout=180)
    env = {**_env(recording), "ARBKIT_SWEEP": str(sweep), "ARBKIT_CONFIG": str(tmp_path / "not-needed.toml")}

    notebook = _execute("03_backtest_sensitivity.ipynb", env, monkeypatch, tmp_path)

    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert "replays under" not in printed
    assert f"sweep {sweep}: 4 tasks (0 failed), 1 session(s), 4 grid points; x = latency.kalshi_ms" in printed
    assert len(_outputs(notebook, "image/png")) == 2
    table = "\n".join(_outputs(notebook, "text/html"))
    pnl = pq.read_table(sweep / "sweep.parquet").column("pnl").to_pylist()
    assert "detector.min_edge=0.005" in table and all(f"{value}" in table for value in pnl)
