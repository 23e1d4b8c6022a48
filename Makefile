PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# The install compiles the hot modules with mypyc (setup.py's COMPILED), in place beside their
# .py files; ARBKIT_PURE_PYTHON=1 (in the environment or on make's command line) installs pure
# Python instead. Each kind of install has its own stamp, so switching reinstalls.
ifneq ($(filter 1 true yes on,$(ARBKIT_PURE_PYTHON)),)
STAMP := $(VENV)/.installed-pure
else
STAMP := $(VENV)/.installed-compiled
endif

# Everything a compiled module's C code is generated from: the layers at and below the engine
# (compiled modules and what they import; test_layering keeps the upper layers out). Editing any
# of them rebuilds, so a stale extension never shadows edited Python.
BUILD_INPUTS := $(wildcard arbkit/*.py arbkit/core/*.py arbkit/venues/*.py arbkit/venues/*/*.py)

.PHONY: demo notebooks test venv pure bench clean

$(VENV)/.installed-compiled: pyproject.toml setup.py $(BUILD_INPUTS)
$(VENV)/.installed-pure: pyproject.toml setup.py

$(STAMP):
	test -x $(PY) || { $(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip; }
	rm -f $(VENV)/.installed-*
	$(PY) -m pip install --quiet -e '.[dev]'
	@$(PY) -c 'import arbkit.core.book as m; print("arbkit installed:", "compiled" if m.__file__.endswith(".so") else "pure Python")'
	touch $@

venv: $(STAMP)

# Install without compiled modules (removes the built extensions); `make test` compiles again.
pure:
	$(MAKE) venv ARBKIT_PURE_PYTHON=1

# DEMO_ARGS: options for `arbkit demo` (e.g. DEMO_ARGS="--duration 30 --out /tmp/demo").
demo: $(STAMP)
	$(VENV)/bin/arbkit demo $(DEMO_ARGS)

# Execute notebooks/*.ipynb into HTML under $(NOTEBOOKS_OUT). They read ARBKIT_RECORDING, ARBKIT_RUN,
# ARBKIT_CONFIG (and 03 ARBKIT_SWEEP); unset, they read the newest demo (running one first if there is none).
NOTEBOOKS_OUT ?= reports
DEMO_LATEST := $(CURDIR)/demo/latest
notebooks: $(STAMP)
	@if [ -z "$$ARBKIT_RECORDING" ] && [ ! -e $(DEMO_LATEST) ]; then $(VENV)/bin/arbkit demo $(DEMO_ARGS); fi
	ARBKIT_RECORDING="$${ARBKIT_RECORDING:-$(DEMO_LATEST)/live/recording}" \
	ARBKIT_RUN="$${ARBKIT_RUN-$(DEMO_LATEST)/replay}" \
	ARBKIT_CONFIG="$${ARBKIT_CONFIG:-$(DEMO_LATEST)/sandbox/arbkit.toml}" \
	$(VENV)/bin/jupyter-nbconvert --to html --execute --output-dir $(NOTEBOOKS_OUT) notebooks/*.ipynb

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(PY) benchmarks/decode_book.py

clean:
	rm -rf $(VENV) build *.egg-info
	find arbkit -name '*.so' -delete
	rm -f *__mypyc.*.so

# -- mutation testing of the money modules (issue 17) ------------------------------------------
# mutmut over core/{fills,risk,portfolio,fees}.py with the fast core tests that exercise them
# (config: [tool.mutmut] in pyproject.toml), in a pure-Python copy of the tree, since a compiled
# extension would shadow its mutated .py; the reference tests run MUTATION_EXAMPLES cases each.
# Prints killed/survived per module. CPU-heavy (see tests/mutation_summary.py): not in `make test`.
MUTATION_DIR := build/mutation
MUTATION_EXAMPLES ?= 400
MUTATION_JOBS ?= 1

.PHONY: mutation
mutation: $(STAMP)
	rm -rf $(MUTATION_DIR)
	mkdir -p $(MUTATION_DIR)
	git ls-files -z --cached --others --exclude-standard arbkit tests pyproject.toml \
		| xargs -0 cp --parents -t $(MUTATION_DIR)
	cd $(MUTATION_DIR) && REFERENCE_EXAMPLES=$(MUTATION_EXAMPLES) \
		nice -n 19 $(abspath $(VENV))/bin/mutmut run --max-children $(MUTATION_JOBS)
	cd $(MUTATION_DIR) && $(abspath $(PY)) $(abspath tests/mutation_summary.py)
