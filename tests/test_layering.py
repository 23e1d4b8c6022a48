"""The layer rules of DESIGN §2, checked on the syntax tree of every module.

`arbkit/core` and `arbkit/venues` are pure: no async or I/O libraries, no wall clock, no global
`random`, and imports only downwards. No module anywhere in `arbkit` calls `print`: the CLI and the
progress display own the terminal through their own writers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "arbkit"
REPO = PACKAGE.parent
PURE_LAYERS = ("core", "venues")

# Top-level modules a pure layer must not import, and why.
FORBIDDEN_MODULES = {
    "asyncio": "async I/O",
    "websockets": "network I/O",
    "socket": "network I/O",
    "pyarrow": "storage",
    "duckdb": "storage",
    "polars": "storage",
    "threading": "threads",
    "time": "the wall clock",
}
WALL_CLOCK_METHODS = {"now", "utcnow", "today"}
DATETIME_CLASSES = {"datetime", "date"}
# The only thing a pure layer may take from `random`: a seeded instance's class, passed in.
RANDOM_ALLOWED = {"Random"}
# Which arbkit packages each pure layer may import: imports point down only. `arbkit.config`
# and `arbkit.errors` are leaf contracts (typed settings, the exception tree) every layer reads.
LEAF_CONTRACTS = ("arbkit.config", "arbkit.errors")
ALLOWED_ARBKIT_IMPORTS = {
    "core": ("arbkit.core", *LEAF_CONTRACTS),
    "venues": ("arbkit.core", "arbkit.venues", *LEAF_CONTRACTS),
}


def _module_files(*parts: str) -> list[Path]:
    return sorted(PACKAGE.joinpath(*parts).rglob("*.py"))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"


def _absolute_module(path: Path, node: ast.ImportFrom) -> str:
    """Resolve `from .x import y` to the dotted module it names."""
    if not node.level:
        return node.module or ""
    # Both arbkit/core/x.py and arbkit/core/__init__.py live in package arbkit.core.
    package = list(path.relative_to(REPO).with_suffix("").parts)[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _PurityVisitor(ast.NodeVisitor):
    """Collect violations of the pure-layer rules in one module."""

    def __init__(self, path: Path, layer: str) -> None:
        self.path = path
        self.layer = layer
        self.problems: list[str] = []
        self.datetime_modules: set[str] = set()  # names bound to the datetime module
        self.datetime_classes: set[str] = set()  # names bound to datetime.datetime / datetime.date
        self.random_modules: set[str] = set()

    def _flag(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"{_where(self.path, node)}: {message}")

    def _check_module(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            self._flag(node, f"imports {module} ({FORBIDDEN_MODULES[top]}) in arbkit/{self.layer}")
        if top == "arbkit" and not any(
            module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED_ARBKIT_IMPORTS[self.layer]
        ):
            self._flag(node, f"imports {module}, a higher layer, from arbkit/{self.layer}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            bound = alias.asname or alias.name.split(".")[0]
            if alias.name == "datetime":
                self.datetime_modules.add(bound)
            if alias.name == "random":
                self.random_modules.add(bound)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = _absolute_module(self.path, node)
        self._check_module(node, module)
        for alias in node.names:
            bound = alias.asname or alias.name
            if module == "datetime" and alias.name in DATETIME_CLASSES:
                self.datetime_classes.add(bound)
            if module == "random" and alias.name not in RANDOM_ALLOWED:
                self._flag(node, f"imports random.{alias.name}; pass a seeded random.Random instead")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if isinstance(value, ast.Name) and value.id in self.random_modules and node.attr not in RANDOM_ALLOWED:
            self._flag(node, f"uses the global random.{node.attr}; pass a seeded random.Random instead")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WALL_CLOCK_METHODS and self._is_datetime_class(func.value):
            self._flag(node, f"reads the wall clock with .{func.attr}(); take the time as an argument")
        if isinstance(func, ast.Name) and func.id == "__import__" or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
        ):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                self._check_module(node, node.args[0].value)
        self.generic_visit(node)

    def _is_datetime_class(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.datetime_classes
        return (
            isinstance(node, ast.Attribute)
            and node.attr in DATETIME_CLASSES
            and isinstance(node.value, ast.Name)
            and node.value.id in self.datetime_modules
        )


def purity_problems(path: Path, layer: str, source: str | None = None) -> list[str]:
    """Return one 'file:line: what' line per pure-layer violation in a module."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    visitor = _PurityVisitor(path, layer)
    visitor.visit(tree)
    return visitor.problems


def print_calls(path: Path, source: str | None = None) -> list[str]:
    """Return one 'file:line' line per call of the builtin print in a module."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    return [
        f"{_where(path, node)}: calls print(); use logging (the CLI owns the terminal)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]


PURE_MODULES = [(layer, path) for layer in PURE_LAYERS for path in _module_files(layer)]


@pytest.mark.parametrize(
    ("layer", "path"), PURE_MODULES, ids=[str(p.relative_to(REPO)) for _, p in PURE_MODULES]
)
def test_pure_layer_module_has_no_io_clock_or_global_random(layer, path):
    problems = purity_problems(path, layer)

    assert not problems, "DESIGN §2 layer rule broken:\n" + "\n".join(problems)


def test_no_module_in_arbkit_calls_print():
    problems = [line for path in _module_files() for line in print_calls(path)]

    assert not problems, "\n".join(problems)


def test_the_leaf_contracts_import_nothing_else_from_arbkit():
    problems = []
    for module in LEAF_CONTRACTS:
        path = REPO.joinpath(*module.split(".")).with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [_absolute_module(path, node)]
            problems += [
                f"{_where(path, node)}: imports {name}"
                for name in names
                if name.split(".")[0] == "arbkit" and name not in LEAF_CONTRACTS
            ]

    assert not problems, "a leaf contract must not pull in other layers:\n" + "\n".join(problems)


def test_the_pure_layers_have_modules_to_check():
    assert len(_module_files("core")) >= 3
    assert len(_module_files("venues")) >= 1


# --- the checker itself catches what it must, and only that ---------------------------------

FAKE = PACKAGE / "core" / "fake.py"


@pytest.mark.parametrize(
    "source",
    [
        "import asyncio",
        "import pyarrow.parquet as pq",
        "from websockets.client import connect",
        "import duckdb",
        "import polars as pl",
        "import socket",
        "from threading import Lock",
        "import time",
        "from time import monotonic_ns",
        "import datetime\nx = datetime.datetime.now()",
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import datetime\nx = datetime.utcnow()",
        "from datetime import datetime as D\nx = D.now(tz=None)",
        "import random\nx = random.random()",
        "import random\nx = random.choice([1, 2])",
        "import random\nrandom.seed(1)",
        "from random import shuffle",
        "import importlib\nm = importlib.import_module('asyncio')",
        "from arbkit.store import reader",
        "from ..store import reader",
    ],
)
def test_the_checker_flags_every_forbidden_construct_with_file_and_line(source):
    problems = purity_problems(FAKE, "core", source)

    assert problems
    assert all(p.startswith("arbkit/core/fake.py:") for p in problems)


@pytest.mark.parametrize(
    "source",
    [
        "import random\ndef f(rng: random.Random):\n    return rng.random()",
        "from random import Random\nrng = Random(7)\nx = rng.choice([1])",
        "from datetime import datetime, timezone\nx = datetime.fromtimestamp(0, tz=timezone.utc)",
        "import msgspec\nfrom decimal import Decimal",
        "from arbkit.core.events import BID\nfrom . import fixedpoint",
        "def now():\n    return 0\nx = now()",
        "class T:\n    def today(self):\n        return 1\nx = T().today()",
    ],
)
def test_the_checker_allows_pure_code(source):
    assert purity_problems(FAKE, "core", source) == []


def test_the_print_check_flags_calls_with_their_line_and_nothing_else():
    source = "import logging\nlogging.info('x')\n\nprint('hello')\n"

    assert print_calls(FAKE, source) == [
        "arbkit/core/fake.py:4: calls print(); use logging (the CLI owns the terminal)"
    ]
