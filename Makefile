# Imagi Oasis: `make dev` runs the whole system on http://localhost:8080, `make test` tests it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install dev test deploy-check fuzz lint format openapi clean release rollback restart

help:
	@echo "make dev      install everything and run the whole system on http://localhost:8080"
	@echo "make test     install everything and run every test suite"
	@echo "make deploy-check  validate the images, docker-compose.yml and k8s/ offline (part of make test)"
	@echo "make fuzz     fuzz every public API deeply with schemathesis (make test runs a short round)"
	@echo "make lint     ruff check and format check"
	@echo "make format   format the code with ruff"
	@echo "make openapi  regenerate each service's committed openapi.yaml (public) and openapi-internal.yaml"
	@echo "make clean    remove the virtualenv and local state (var/)"
	@echo "make release [VERSION=v]  docker compose: build a release, migrate with it, then serve it"
	@echo "make rollback [TO=v]      docker compose: serve the previous release again, then undo its migrations"

install: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints.txt services/*/requirements.txt services/common/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

dev: install
	@$(BIN)/python scripts/dev.py

test: install
	@$(BIN)/python scripts/test.py

deploy-check: install
	$(BIN)/pytest -q tests/deploy

fuzz: install
	OASIS_FUZZ_EXAMPLES=$${OASIS_FUZZ_EXAMPLES:-150} $(BIN)/pytest -q tests/fuzz

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# openapi.yaml is the public API (what the gateway routes and publishes at /docs/);
# openapi-internal.yaml the service-to-service API under /internal/.
openapi: install
	@for service in $$($(BIN)/python -c 'import sys; sys.path.insert(0, "scripts"); from platform_tools import django_services; print(*django_services())'); do \
		echo "services/$$service/openapi.yaml services/$$service/openapi-internal.yaml"; \
		(cd services/$$service && export OASIS_VAR_DIR=$$(mktemp -d) \
			&& ../../$(BIN)/python manage.py spectacular --validate --fail-on-warn --file openapi.yaml \
			&& ../../$(BIN)/python manage.py spectacular --validate --fail-on-warn \
				--custom-settings oasis_common.schema.INTERNAL_API --file openapi-internal.yaml) || exit 1; \
	done

clean:
	rm -rf $(VENV) var

# Releases on one host with docker compose (docs/operations.md, "Releases and rollbacks"). The script
# needs only the host's python3 and Docker, not the virtualenv.
release:
	$(PYTHON) scripts/release.py release $(if $(VERSION),--version $(VERSION))

rollback:
	$(PYTHON) scripts/release.py rollback $(if $(TO),--to $(TO))

# New containers for SERVICES, the web services start-first (no request fails).
restart:
	$(PYTHON) scripts/release.py restart $(SERVICES)
