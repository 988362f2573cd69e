# caseowner — the front door. `make demo` and `make test` need nothing but python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SCALE ?= 0.01
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	OUTBOX_IN_PROCESS=true $(PY) manage.py runserver 127.0.0.1:8000

# Two passes: what runs inside one process is spread over both cores; the tests that start
# Celery workers, race connections or crash processes run alone (they share the broker).
test: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -n 2 --ignore=tests/integration \
		--ignore=tests/reliability $(PYTEST_ARGS)
	$(PY) -m pytest -p no:cacheprovider tests/integration tests/reliability $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m mypy caseowner cases commitments notifications reports demo
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m bench --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
