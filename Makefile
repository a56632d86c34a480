# GridMap: `make run` sets everything up and serves the demo; `make test` runs the whole suite.
# Both are idempotent. DATABASE_URL=postgis://user:pass@host:port/db points them at an existing PostGIS.
SHELL := /bin/bash
# Every command runs with the install's secrets (written once by setup, outside the repository: .ci/secrets.sh).
WITH_SECRETS := bash .ci/secrets.sh run
PY := $(WITH_SECRETS) .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SIZE ?= small
export DEMO_MODE ?= true
export DJANGO_SETTINGS_MODULE := gridmap.settings

.PHONY: setup run serve test lint deploy-check bench messages check

setup:
	bash .ci/provision.sh
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py collectstatic --noinput -v 0

run: setup
	$(PY) manage.py load_demo
	@echo "GridMap serves at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) manage.py check --database default
	$(WITH_SECRETS) .venv/bin/gunicorn gridmap.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-3} --access-logfile -

# Two to four pytest workers (tests/conftest.py: browser and load tests run one after another on one of them).
TEST_WORKERS ?= $(shell n=$$(nproc); [ $$n -gt 4 ] && n=4; [ $$n -lt 2 ] && n=2; echo $$n)
test: setup lint deploy-check
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The deployment checklist with production-like settings: any warning not silenced with its reason
# (gridmap/settings.py, docs/security.md "Accepted check warnings") fails the run.
deploy-check:
	DEMO_MODE=false DEBUG=false ALLOWED_HOSTS=grid.example.gov.cn SECURE_COOKIES=true SECURE_SSL_REDIRECT=true \
	  SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_PRELOAD=true BEHIND_HTTPS_PROXY=true \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Lint, formatting and the import contract of docs/architecture.md (pyproject.toml holds their settings).
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

bench: setup
	$(PY) -m bench --size $(SIZE)

messages:
	$(PY) manage.py makemessages -l en --no-location --no-wrap -v 0 --ignore=.venv --ignore=node_modules \
	  --ignore=staticfiles --ignore=tests --ignore=bench
	$(PY) manage.py makemessages -d djangojs -l en --no-location --no-wrap -v 0 --ignore=.venv --ignore=node_modules \
	  --ignore='gridmap/static/vendor/*' --ignore=staticfiles

check:
	$(PY) manage.py check
	docker-compose -f docker-compose.yml config -q
