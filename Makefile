# Glass Box: two commands, each doing its own set-up on a fresh machine.
#   make book   — create .venv, install the pinned environment, execute every chapter, build _build/html
#   make test   — the same set-up, then the whole test suite
#   make test-fast — the unit tests only (`pytest -m "not slow"`: no notebook runs, training, subprocesses or lint)
.PHONY: book test test-fast mutation chapter notebooks colab-check browser site-check robustness clean

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Chapters are re-executed when anything they import changes: jupyter-cache keys only on a notebook's own cells.
LIBRARY := $(shell find code/glassbox tools/glassbox_build solutions exercises book/_ext -name '*.py' -o -name '*.yml' 2>/dev/null) requirements.txt
LIBRARY_STAMP := _build/.library-stamp

export PYDEVD_DISABLE_FILE_VALIDATION := 1
export HF_HUB_OFFLINE ?= 1
export TQDM_DISABLE := 1

# torch first and exactly as pinned: anything else would pull several GB of CUDA wheels.
# TORCH_INDEX (e.g. https://download.pytorch.org/whl/cpu on GitHub's runners) picks where the CPU build comes from.
$(INSTALLED): requirements.txt code/pyproject.toml tools/pyproject.toml
	$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)   # none yet, or one left half-made
	$(PY) -m pip install --quiet "$$(grep -E '^torch==' requirements.txt)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -r requirements.txt -e code -e tools
	touch $@

# Chapter 12 runs GPT-2 online and the book's own model offline: switching HF_HUB_OFFLINE must re-execute it too.
NETWORK_STAMP := _build/.hf-offline-$(HF_HUB_OFFLINE)
$(NETWORK_STAMP):
	rm -f _build/.hf-offline-*
	mkdir -p _build
	touch $@

$(LIBRARY_STAMP): $(LIBRARY) $(NETWORK_STAMP)
	rm -rf _build/.jupyter_cache _build/.doctrees
	mkdir -p _build
	touch $@

book: $(INSTALLED) $(LIBRARY_STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going --builder html
	$(PY) -m glassbox_build.sitecheck _build/html

# Both run on TEST_WORKERS pytest-xdist processes (one per core here; TEST_WORKERS=0 runs in this process). Tests that
# need the same trained model run on one worker, in turn (conftest.py: SHARED_MODELS), and the workers share one model
# cache. PYTEST_ARGS passes options on, e.g. make test-fast PYTEST_ARGS="tests/test_model.py --durations=20".
TEST_WORKERS ?= 2
PYTEST := $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup
test: $(INSTALLED)
	$(PYTEST) $(PYTEST_ARGS)

test-fast: $(INSTALLED)
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

# Mutation testing (mutmut, configured in setup.cfg) in a copy under _build/mutation, one library module at a time:
# make mutation MODULE=sampling (several: MODULE="sampling bpe"); without MODULE, every module of tests/mutation.py.
mutation: $(INSTALLED)
	$(PY) tests/mutation.py $(MODULE)

# One or more chapters executed as the build does, timed, outside the build's cache: make chapter CH="ch05 ch06"
chapter: $(INSTALLED)
	$(PY) tests/run_chapter.py $(CH)

notebooks: $(INSTALLED)
	$(PY) -m glassbox_build.notebooks --out _build/colab

# Every chapter's Colab notebook run as Colab runs it (a fresh Colab-shaped runtime, the install cell as generated,
# stubs and solutions), glued numbers compared with the book's: after `make book`. See tests/colab/simulate.py.
colab-check: $(INSTALLED)
	$(PY) tests/colab/simulate.py --out _build/colab-sim

# The built site in headless Chromium: axe-core (WCAG 2.1 A/AA) on every page, no request outside the site (an
# offline reader), no sideways scroll at 390 px, formulas rendered, animations that pause; each page's weight.
# After `make book`. Installs what it needs: Debian's chromium if no Chromium is there, axe-core and puppeteer-core
# as pinned in tests/site/package-lock.json. See tests/site/check.mjs.
SITE_NODE := tests/site/node_modules/.package-lock.json
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(SITE_NODE): tests/site/package.json tests/site/package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm)
	cd tests/site && npm ci --no-audit --no-fund
	touch $@

# Chromium and the site check's node packages: also what the widget's browser tests need (tests/test_widget*.py
# skip without them), so CI installs them before `make test`.
browser: $(SITE_NODE)
	command -v chromium || command -v chromium-browser || command -v google-chrome || [ -n "$$CHROME_PATH" ] \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

site-check: browser
	node tests/site/check.mjs _build/html --json _build/site-check.json

# Every chapter that trains, run from an empty model cache under each CPU kernel set this machine has (default, avx2,
# avx512) and two more training seeds (GLASSBOX_SEED=1, 2): fails on any cell error, prints each glued number's
# spread across the runs (about 10 minutes a run). See tests/robustness.py; KERNELS="default" SEEDS="0" for one.
robustness: $(INSTALLED)
	$(PY) tests/robustness.py $(CH) $(if $(KERNELS),--kernels $(KERNELS)) $(if $(SEEDS),--seeds $(SEEDS))

clean:
	rm -rf _build
	@echo "(trained models stay in $${GLASSBOX_CACHE:-~/.cache/glassbox}: rm -r it to retrain them all)"
