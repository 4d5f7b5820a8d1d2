# OpenNebula-py — the two commands a new user types are `make demo` and `make test`.
SHELL := /bin/bash
UV := bash scripts/uv.sh
PYTEST_ARGS ?=


.PHONY: help setup demo demo-stop test test-deps bench lint format clean

help:
	@echo "make demo   - set up, start oned with dummy drivers, create a host, a network and VMs, start the web dashboard"
	@echo "make test   - set up what the tests need and run the whole suite"
	@echo "make bench  - run the benchmarks and the scaling sweep (docs/performance.md)"
	@echo "make lint   - ruff and mypy"

setup:
	@$(UV) sync --all-packages --quiet
	@$(UV) run --no-sync python -m one_core.daemon.optimize  # oned's -OO bytecode (one_core/daemon/optimize.py)

demo: setup
	@bash scripts/demo.sh

demo-stop:
	@if [ -f demo/oned.pid ] && kill -0 $$(cat demo/oned.pid) 2>/dev/null; then \
		kill $$(cat demo/oned.pid) && echo "oned stopped"; else echo "no demo oned running"; fi
	@if [ -f demo/web.pid ] && kill -0 $$(cat demo/web.pid) 2>/dev/null; then \
		kill $$(cat demo/web.pid) && echo "web dashboard stopped"; fi

test-deps:
	@bash scripts/install-test-deps.sh

test: test-deps
	@if pkg-config --exists libvirt 2>/dev/null; then \
		$(UV) sync --all-packages --quiet --group libvirt; \
	else \
		echo "note: libvirt-dev missing: libvirt-python tests will skip" >&2; \
		$(UV) sync --all-packages --quiet; \
	fi
	@$(UV) run --no-sync python -m one_core.daemon.optimize  # oned's -OO bytecode, as setup writes it
	@$(UV) run --no-sync pytest $(PYTEST_ARGS)

# make bench BENCH_ARGS="--sweep small"   (the sweep up to 10,000 VMs / 1,000 hosts)
BENCH_ARGS ?=

bench: setup
	@$(UV) run python bench/run_all.py $(BENCH_ARGS)

lint: setup
	@$(UV) run ruff check .
	@$(UV) run ruff format --check one_core lib plugins frontends tests bench
	@$(UV) run mypy

format: setup
	@$(UV) run ruff format one_core lib plugins frontends tests bench
	@$(UV) run ruff check --fix .

clean:
	rm -rf .venv demo .pytest_cache .ruff_cache .mypy_cache .hypothesis
