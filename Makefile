# caseowner — the front door. `make demo` and `make test` need nothing but python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SCALE ?= 0.01
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz lint bench install clean screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The client generators the integrator stories run with (tests/integration/
# test_generated_clients.py), apart from the product's dependencies: openapi-python-client in
# its own venv, openapi-typescript, openapi-fetch and tsc from clients/package-lock.json
# (without npm those tests skip, except in CI).
CLIENTS_VENV := var/clients/venv
CLIENTS_STAMP := var/clients/.installed
$(CLIENTS_STAMP): clients/requirements.txt clients/package-lock.json
	test -x $(CLIENTS_VENV)/bin/python || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet -r clients/requirements.txt
	if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix clients --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the TypeScript client's story will skip"; fi

# What the pages load from npm (htmx, served by whitenoise) and what the browser tests inject
# (axe-core), from frontend/package-lock.json. Without npm the pages still work (htmx only
# enhances them) and the accessibility audit skips, except in CI.
FRONTEND_STAMP := frontend/node_modules/.installed
$(FRONTEND_STAMP): frontend/package-lock.json
	if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix frontend --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: pages run without htmx, the accessibility audit will skip"; fi

install: $(STAMP) $(FRONTEND_STAMP)

# `make demo PORT=8001` serves on another port; the links in emails and pages follow it.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)

demo: $(STAMP) $(FRONTEND_STAMP)
	@echo "== migrating the database (var/caseowner.sqlite3 unless DATABASE_URL is set)"
	$(PY) manage.py migrate --noinput --verbosity 0
	SITE_URL=$(SITE_URL) $(PY) manage.py load_demo
	SITE_URL=$(SITE_URL) OUTBOX_IN_PROCESS=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Every page at 1280 x 800 and on a 375 x 667 phone, from a small seeded world in a throwaway
# SQLite database, into var/screenshots/ (not committed). DOCS=1 refreshes the README's
# pictures (docs/queue.png, docs/customer-phone.png) too.
screenshots: $(STAMP) $(FRONTEND_STAMP)
	$(PY) -m tests.pages.screenshots $(if $(DOCS),--docs)

# Two passes: what runs inside one process is spread over both cores; the tests that start
# Celery workers, race connections or crash processes run in the second pass, in two
# processes side by side: those that share the broker (the integration tests and the two
# that kill workers or gunicorn) in one, the races, the backup and the stateful runs (the
# database only, a test database of their own) in the other.
# Each pass prints its 15 slowest tests; each pass's time and the total are printed at the end.
# INTEGRATION_ENV="DATABASE_URL=… DATABASE_POOLER=pgbouncer" runs the broker half through a
# pooler (CI: PgBouncer in transaction mode, .ci/db_servers).
BROKER_FREE := tests/reliability --ignore=tests/reliability/test_crashes.py \
	--ignore=tests/reliability/test_web_crash.py
test: $(STAMP) $(CLIENTS_STAMP) $(FRONTEND_STAMP)
	@start=$$(date +%s); \
	export RELIABILITY_RUN=$$start; \
	$(PY) -m pytest -p no:cacheprovider -n 2 --dist worksteal -m "not serial" \
		--durations=15 $(PYTEST_ARGS) || exit $$?; \
	middle=$$(date +%s); \
	mkdir -p var; \
	TEST_DATABASE_NAME=$${TEST_DATABASE_NAME:-test_caseowner}_db_only \
		$(PY) -m pytest -p no:cacheprovider -m serial $(BROKER_FREE) \
		--durations=15 $(PYTEST_ARGS) > var/test-second-pass-db-only.log 2>&1 & db_only=$$!; \
	$(INTEGRATION_ENV) $(PY) -m pytest -p no:cacheprovider -m serial tests/integration \
		tests/reliability/test_crashes.py tests/reliability/test_web_crash.py \
		--durations=15 $(PYTEST_ARGS); broker=$$?; \
	wait $$db_only; db=$$?; \
	echo "== second pass, the database-only half (var/test-second-pass-db-only.log):"; \
	cat var/test-second-pass-db-only.log; \
	[ $$broker -eq 0 ] && [ $$db -eq 0 ] || exit 1; \
	end=$$(date +%s); \
	echo "== suite time: first pass $$((middle - start)) s, second pass $$((end - middle)) s," \
		"both $$((end - start)) s (budget 600 s)"

# Exploration beyond CI's fixed draw: a fresh seed (printed; FUZZ_SEED=N replays it), more
# examples per operation and at least FUZZ_REQUESTS stateful requests per role. Each failing
# request is written to var/fuzz/found/; fix it, then commit the file under
# tests/fuzz_examples/ so every run replays it.
FUZZ_EXAMPLES ?= 60
FUZZ_REQUESTS ?= 1500
fuzz: $(STAMP)
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "== fuzz: seed $$seed (FUZZ_SEED=$$seed make fuzz draws the same requests)"; \
	FUZZ_SEED=$$seed FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) RELIABILITY_API_REQUESTS=$(FUZZ_REQUESTS) \
		$(PY) -m pytest -p no:cacheprovider -q --hypothesis-seed=$$seed \
		tests/test_api_fuzz.py tests/reliability/test_api_stateful.py $(PYTEST_ARGS); \
	status=$$?; \
	if ls var/fuzz/found/*.json >/dev/null 2>&1; then \
		echo "== found (fix, then move into tests/fuzz_examples/):"; ls var/fuzz/found/; fi; \
	exit $$status

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
