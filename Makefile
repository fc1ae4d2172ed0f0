# Developer shortcuts; CI runs .ci/run.
PY ?= .venv/bin/python

.PHONY: install check test bench bench-1m demo

install:
	python3 -m venv .venv && .venv/bin/pip install -e '.[test]'

check:
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy

test:
	.venv/bin/pytest -q

bench:
	$(PY) bench/bench_startup.py
	$(PY) bench/bench_store.py --tickets 100000
	$(PY) bench/bench_kb_quality.py
	$(PY) bench/bench_kb.py --db /tmp/deskterm-bench-100000.db

bench-1m:
	$(PY) bench/bench_store.py --tickets 1000000

demo:
	.venv/bin/deskterm demo
