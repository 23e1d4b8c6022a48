"""The mypyc build: compiled modules are current, agree byte for byte with pure Python, and the
build falls back or fails as setup.py promises.

The compiled modules are setup.py's COMPILED list, read from its source (running it would build).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

import arbkit
from arbkit.sandbox.generate import generate_recording
from arbkit.sandbox.workloads import generate_workload

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(arbkit.__file__).resolve().parent
REBUILD = "rebuild with `make venv` (or `pip install -e .`), or drop the extensions with `make pure`"


def _setup_constant(name: str) -> Any:
    tree = ast.parse((REPO / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"setup.py has no constant {name}")


COMPILED: list[str] = _setup_constant("COMPILED")
MODULES = [path.removesuffix(".py").replace("/", ".") for path in COMPILED]
SHARED_LIB = f"{_setup_constant('GROUP')}__mypyc"


def _is_extension(path: str | Path) -> bool:
    return str(path).endswith(tuple(EXTENSION_SUFFIXES))


def _extension_files(package: Path) -> list[Path]:
    """The extension modules in `package` and the shared library beside it."""
    beside = package.parent.glob(f"{SHARED_LIB}.*")
    return sorted(p for p in [*package.rglob("*"), *beside] if _is_extension(p))


def _module_of(extension: Path) -> str:
    relative = extension.relative_to(PACKAGE.parent)
    return ".".join((*relative.parent.parts, relative.name.split(".", 1)[0]))


def _origin(module: str) -> Path:
    return Path(importlib.import_module(module).__file__).resolve()


COMPILED_INSTALL = bool(_extension_files(PACKAGE))
requires_compiled = pytest.mark.skipif(
    not COMPILED_INSTALL,
    reason="pure-Python install (ARBKIT_PURE_PYTHON=1, or no working C compiler at build time): "
    "nothing compiled to check",
)


def _build_check(package: Path, compiled: bool) -> str:
    """Python source that fails unless every COMPILED module comes from `package`, compiled or not."""
    return (
        "import importlib, importlib.machinery\n"
        f"for name in {MODULES!r}:\n"
        "    origin = importlib.import_module(name).__file__\n"
        f"    assert origin.startswith({str(package)!r}), origin\n"
        "    compiled = origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))\n"
        f"    assert compiled == {compiled!r}, origin\n"
    )


@pytest.fixture(scope="module")
def pure_python_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sys.path entry holding a copy of the installed arbkit package without its extensions."""
    root = tmp_path_factory.mktemp("pure-python")
    ignore = shutil.ignore_patterns("__pycache__", *(f"*{suffix}" for suffix in EXTENSION_SUFFIXES))
    shutil.copytree(PACKAGE, root / "arbkit", ignore=ignore)
    return root


# -- the installed build is complete and current -----------------------------------------------


@requires_compiled
def test_every_compiled_module_and_the_shared_library_import_from_extensions():
    # Arrange
    expected = {*MODULES, SHARED_LIB}

    # Act
    not_compiled = [m for m in sorted(expected) if not _is_extension(_origin(m))]
    leftovers = [_module_of(p) for p in _extension_files(PACKAGE) if _module_of(p) not in expected]

    # Assert
    assert not_compiled == [], (
        f"{not_compiled} are in setup.py's COMPILED but import from .py next to other compiled "
        f"modules: the build predates the list; {REBUILD}"
    )
    assert leftovers == [], f"extensions of {leftovers}, not in setup.py's COMPILED, shadow their .py: {REBUILD}"


in_source_tree = pytest.mark.skipif(
    PACKAGE != REPO / "arbkit",
    reason="installed from a wheel: its extensions were built from the sources installed beside them",
)


@requires_compiled
@in_source_tree
def test_no_compiled_extension_is_older_than_its_source():
    # Arrange: every module's code lives in the shared library; its own extension is a stub.
    shared_lib = _origin(SHARED_LIB)

    # Act
    stale = []
    for path, module in zip(COMPILED, MODULES):
        extension = _origin(module)
        built_ns = min(extension.stat().st_mtime_ns, shared_lib.stat().st_mtime_ns)
        if (REPO / path).stat().st_mtime_ns > built_ns:
            stale.append(path)

    # Assert
    assert stale == [], (
        f"{stale} changed after the build, and Python imports the compiled old code instead: {REBUILD}"
    )


@requires_compiled
@in_source_tree
def test_no_module_the_compiled_code_depends_on_changed_after_the_build():
    # Arrange: the Makefile's BUILD_INPUTS, the layers at and below the engine; mypyc inlines
    # their Final constants and relies on their types.
    built_ns = _origin(SHARED_LIB).stat().st_mtime_ns
    inputs = [*PACKAGE.glob("*.py"), *PACKAGE.glob("core/*.py"), *PACKAGE.glob("venues/**/*.py")]

    # Act
    stale = sorted(str(p.relative_to(REPO)) for p in inputs if p.stat().st_mtime_ns > built_ns)

    # Assert
    assert stale == [], f"{stale} changed after the compiled build, which may have inlined them: {REBUILD}"


# -- pure Python and compiled give the same results --------------------------------------------


JITTER = "\n[latency]\nseed = 5\nkalshi_ms = 20\npolymarket_ms = 60\njitter_ms = 40\n"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A sandbox recording with dislocations and a config whose latency draws seeded jitter."""
    root = tmp_path_factory.mktemp("build-recording")
    result = generate_recording(root, frames=40_000, pairs=5, seed=8, rate=150.0)
    config = root / "jitter.toml"
    config.write_text(result.config_path.read_text() + JITTER)
    return root, config


@pytest.fixture(scope="module")
def near_parity_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A near-parity recording (books within fees of $1, windows opening and closing all the
    time: the detector's incremental sizing and fee bounds at work), with seeded jitter."""
    root = tmp_path_factory.mktemp("build-near-parity")
    config_path = generate_workload(root, "near-parity", frames=4_000, seed=3)
    config = root / "jitter.toml"
    config.write_text(config_path.read_text() + JITTER)
    return root, config


@requires_compiled
@pytest.mark.e2e
@pytest.mark.parametrize("which", ["recording", "near_parity_recording"])
def test_pure_python_and_compiled_replays_write_byte_identical_tables(
    which, request, pure_python_path, tmp_path
):
    # Arrange
    root, config = request.getfixturevalue(which)
    runs = {"compiled": tmp_path / "run-compiled", "pure": tmp_path / "run-pure"}
    builds = {"compiled": (PACKAGE, True, os.environ.get("PYTHONPATH", "")),
              "pure": (pure_python_path / "arbkit", False, str(pure_python_path))}

    # Act: both at once; -P and a neutral cwd keep the checkout's arbkit off sys.path.
    procs = {
        build: subprocess.Popen(
            [sys.executable, "-P", "-c", _build_check(package, compiled) + "from arbkit.cli import main; main()",
             "replay", "--from", str(root), "--config", str(config), "--out", str(runs[build])],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": pythonpath},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        for build, (package, compiled, pythonpath) in builds.items()
    }
    errors = {build: p.communicate(timeout=120)[1].decode() for build, p in procs.items()}

    # Assert
    assert [p.returncode for p in procs.values()] == [0, 0], errors
    compiled_run, pure_run = runs["compiled"], runs["pure"]
    names = sorted(p.name for p in compiled_run.iterdir())
    assert names == sorted(p.name for p in pure_run.iterdir())
    tables = [n for n in names if n.endswith(".parquet")]
    different = [n for n in tables if (compiled_run / n).read_bytes() != (pure_run / n).read_bytes()]
    assert different == [], f"pure Python and compiled builds disagree on {different}"
    compiled_json, pure_json = (json.loads((run / "run.json").read_text()) for run in (compiled_run, pure_run))
    assert compiled_json["outputs"] == pure_json["outputs"]
    assert sorted(compiled_json["outputs"]) == sorted(n.removesuffix(".parquet") for n in tables)
    rows = compiled_json["rows"]
    assert min(rows["opportunities"], rows["orders"], rows["fills"]) > 0, f"nothing to compare: {rows}"


@requires_compiled
@pytest.mark.e2e
def test_core_and_venue_tests_pass_on_pure_python(pure_python_path):
    # Arrange: the same unit tests the suite runs against the compiled modules.
    tests = [str(REPO / "tests" / "core"), str(REPO / "tests" / "venues")]
    run_pytest = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    outer_pytest_free_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}

    # Act
    result = subprocess.run(
        [sys.executable, "-P", "-c", _build_check(pure_python_path / "arbkit", False) + run_pytest,
         "-q", "-x", "-p", "no:cacheprovider", *tests],
        # The reference tests run 20,000 cases per module compiled in the suite; a thousand
        # check the pure modules here, within this test's time bound.
        cwd=REPO, env={**outer_pytest_free_env, "PYTHONPATH": str(pure_python_path), "REFERENCE_EXAMPLES": "1000"},
        capture_output=True, text=True, timeout=300, check=False,
    )

    # Assert
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert " passed" in result.stdout.splitlines()[-1]


# -- setup.py: opt-out, compiler fallback, type errors fail ------------------------------------


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A copy of the build inputs with a fake stale extension beside the first compiled module."""
    pytest.importorskip("mypyc", reason="mypy (mypyc) is in the dev extra")
    pytest.importorskip("setuptools", minversion="77", reason="setup.py needs setuptools>=77 (dev extra)")
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", *(f"*{suffix}" for suffix in EXTENSION_SUFFIXES))
    shutil.copytree(REPO / "arbkit", tree / "arbkit", ignore=ignore)
    (tree / COMPILED[0]).with_suffix(EXTENSION_SUFFIXES[0]).write_bytes(b"stale")
    return tree


def _build_in_place(tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "ARBKIT_PURE_PYTHON"}
    return subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=tree, env={**inherited, **env}, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.mark.e2e
def test_pure_python_request_compiles_nothing_and_removes_old_extensions(source_tree):
    # Act
    result = _build_in_place(source_tree, ARBKIT_PURE_PYTHON="1")

    # Assert
    assert result.returncode == 0, result.stdout + result.stderr
    assert _extension_files(source_tree / "arbkit") == []
    assert "building '" not in result.stdout + result.stderr


@pytest.mark.e2e
def test_failing_c_compiler_warns_and_leaves_pure_python(source_tree):
    # Act
    result = _build_in_place(source_tree, CC="/bin/false")

    # Assert
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compiling the hot modules failed" in result.stderr
    assert "installing pure Python" in result.stderr
    assert _extension_files(source_tree / "arbkit") == []


@pytest.mark.e2e
def test_type_error_in_a_compiled_module_fails_the_build(source_tree):
    # Arrange
    broken = source_tree / COMPILED[-1]
    broken.write_text(broken.read_text() + '\n_BROKEN: int = "not an int"\n')
    lines = broken.read_text().count("\n")

    # Act
    result = _build_in_place(source_tree)

    # Assert
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{COMPILED[-1]}:{lines}: error: Incompatible types in assignment" in output
    assert "mypyc rejected the compiled modules" in output
