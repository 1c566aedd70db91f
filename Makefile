# doxwatch: `make demo` shows the whole job on a bundled sample; `make test` runs the suite.
# Everything the two need is installed here, so a fresh clone on a fresh machine works.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: demo test install chromium postgres bench accuracy clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium, for pages that need a browser and for screenshots
# (Playwright cannot download its own browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ -z "$$DOXWATCH_CHROMIUM" ]; then \
		echo "installing Debian's chromium (needed for browser rendering)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
		|| { echo "could not install chromium: run 'apt-get install chromium' as root"; exit 1; }; \
	fi

# Debian's PostgreSQL server binaries: the storage tests start a throw-away server.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql (for the storage tests)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
		|| { echo "could not install postgresql: run 'apt-get install postgresql' as root"; exit 1; }; \
	fi

demo: install
	$(VENV)/bin/doxwatch demo

test: install chromium postgres
	$(PY) -m pytest -q

# Detection accuracy on the labelled pages in ../shared/eval/webstruct and the doxing set in tests/corpus
# (figures and targets: docs/accuracy.md). EVAL_DIR=/path/to/eval to read the pages from elsewhere.
accuracy: install
	$(PY) bench/accuracy.py $(if $(EVAL_DIR),--eval-dir $(EVAL_DIR))

# Speed: the rule engine beside a parse-only floor and Presidio, and a crawl beside a bare Scrapy spider
# (figures and targets: docs/performance.md). Installs the bench extra (Presidio, Faker) first.
bench: install
	$(PIP) install -q -e '.[test,bench]'
	$(PY) bench/throughput.py $(if $(EVAL_DIR),--eval-dir $(EVAL_DIR)); t=$$?; $(PY) bench/crawl.py; c=$$?; exit $$((t || c))

clean:
	rm -rf $(VENV) build *.egg-info
