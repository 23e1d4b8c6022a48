"""Build arbkit, compiling the hot modules listed in COMPILED with mypyc.

The compiled modules are ordinary .py files, which stay the reference and the fallback:
- ARBKIT_PURE_PYTHON=1 skips compilation entirely;
- a missing or failing C compiler prints a warning and installs pure Python;
- a mypyc type error is a bug in arbkit and fails the build.

Everything else (metadata, dependencies, packages) is in pyproject.toml.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

# Compiled into one shared library, so calls between these modules stay native C calls.
COMPILED = [
    "arbkit/core/fixedpoint.py",
    "arbkit/core/fees.py",
    "arbkit/core/book.py",
    "arbkit/core/pairs.py",
    "arbkit/core/detector.py",
    "arbkit/core/fills.py",
    "arbkit/core/risk.py",
    "arbkit/core/portfolio.py",
    "arbkit/venues/kalshi/decode.py",
    "arbkit/venues/polymarket/decode.py",
    "arbkit/engine.py",
]

# The shared library is the top-level module arbkit__mypyc (beside arbkit/): mypyc derives the
# __file__ of modules it imports natively from that location, assuming the package tree sits beside
# it. setuptools' editable finder maps top-level extension modules like top-level packages.
GROUP = "arbkit"

# Only the compiled modules must type-check; the modules they import are read for their types.
MYPY_ARGS = ["--ignore-missing-imports", "--follow-imports=silent", "--cache-dir=build/mypy_cache"]

ROOT = Path(__file__).resolve().parent


def pure_python_requested() -> bool:
    """Tell whether ARBKIT_PURE_PYTHON asks for an install without compiled modules."""
    return os.environ.get("ARBKIT_PURE_PYTHON", "").strip().lower() in {"1", "true", "yes", "on"}


def remove_extensions(root: Path, keep: frozenset[Path] = frozenset()) -> None:
    """Delete arbkit's extension files under `root` (source tree or build dir) except `keep`.

    In the source tree a stale extension shadows its .py; in a build dir it would go into the wheel.
    """
    for path in [*(root / "arbkit").rglob("*.so"), *root.glob("*__mypyc.*.so")]:
        if path.resolve() not in keep:
            path.unlink()


@functools.cache
def mypyc_extensions() -> list[Extension]:
    """Type-check COMPILED and generate its C code (once per process), or exit on a type error."""
    try:
        from mypyc.build import mypycify
    except ImportError:
        sys.exit("arbkit: compiling needs mypy (mypyc); install it, or set ARBKIT_PURE_PYTHON=1")
    try:
        # debug_level 0: -g1 emits the same machine code plus debug info (a 1.75x larger .so).
        return mypycify([*MYPY_ARGS, *COMPILED], opt_level="3", debug_level="0", group_name=GROUP)
    except SystemExit as exc:
        if exc.code in (None, 0):
            raise
        sys.exit(
            "arbkit: mypyc rejected the compiled modules (errors above). A compiled module must "
            "type-check: fix it (`mypy --follow-imports=silent FILE`), or set ARBKIT_PURE_PYTHON=1 "
            "to install pure Python."
        )


class BuildCompiled(build_ext):
    """build_ext for mypyc's extensions that falls back to pure Python when C compilation fails."""

    def finalize_options(self) -> None:
        self.distribution.ext_modules = mypyc_extensions()
        super().finalize_options()

    def run(self) -> None:
        inplace = self.inplace  # setuptools' run() clears it while building and may not restore it
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError) as exc:
            warnings.warn(
                f"arbkit: compiling the hot modules failed ({exc}); installing pure Python "
                "(correct but slower). Install a C compiler and reinstall to compile.",
                stacklevel=1,
            )
            self.extensions = []
            remove_extensions(Path(self.build_lib))
            if inplace:
                remove_extensions(ROOT)
            return
        names = [self.get_ext_filename(self.get_ext_fullname(ext.name)) for ext in self.extensions]
        remove_extensions(Path(self.build_lib), keep=frozenset(Path(self.build_lib, n).resolve() for n in names))
        if inplace:
            built = frozenset(Path(self.get_ext_fullpath(ext.name)).resolve() for ext in self.extensions)
            remove_extensions(ROOT, keep=built)
            # An up-to-date extension is not rebuilt, yet it matches the sources its C code was
            # just generated from: give it a fresh mtime for the staleness check in the tests.
            for path in built:
                os.utime(path)


if pure_python_requested():
    for root in [ROOT, *ROOT.glob("build/lib*")]:
        remove_extensions(root)
    setup()
else:
    # A placeholder until build_ext swaps in mypycify's list: it makes the wheel platform-specific
    # and schedules build_ext.
    setup(
        ext_modules=[Extension(GROUP + "__mypyc", sources=[])],
        cmdclass={"build_ext": BuildCompiled},
    )
