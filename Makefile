# Every target creates the virtual environment it needs, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The API suites, and the management page's actions in Chromium, run a second time on the aws backend: DynamoDB + S3
# on a moto server over real HTTP (the browser posts big files to moto's S3 with the presigned form).
AWS_SUITES := tests/test_api_*.py tests/test_permissions.py tests/test_bad_input.py tests/test_tb_rest_client.py \
	tests/test_manage_actions.py tests/security/test_tokens.py tests/security/test_logins.py \
	tests/security/test_public_links.py tests/security/test_staged_uploads.py tests/security/test_inputs.py \
	tests/security/test_known_attacks.py tests/test_manage_redirects.py

# Browser tests drive Debian's Chromium (Playwright never downloads a browser here).
CHROMIUM := /usr/bin/chromium
# A tool that is missing comes from Debian: as root, or through sudo where there is one; otherwise make says what to
# install and stops. Where the tools are present nothing is installed (and nothing asks for sudo).
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && \
		sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	else echo "make needs: $(1). Install it (Debian: apt-get install $(1)), then run make again." >&2; exit 1; fi

# The browser code ships as it is; TypeScript (reading its JSDoc), ESLint and Node's test runner check it. Pinned in
# package-lock.json, installed from npm, used from node_modules/.bin.
NPM        := $(shell command -v npm || echo /usr/bin/npm)
NODE_STAMP := node_modules/.installed
NODE_BIN   := node_modules/.bin

# `make package` builds the Lambda zips (the API, and the site publisher: `<stage>_publisher`) from a virtual env
# holding only what the functions need.
LAMBDA_VENV := .venv-lambda
STAGE       ?= dev

.PHONY: serve test test-fast test-aws lint bench package deploy destroy admin vendor clean

# `make deploy STAGE=dev [SITE_TENANT=Acme]`, `make destroy STAGE=dev [WITH_DATA=1]`, `make admin STAGE=dev
# EMAIL=you@example.com`: AWS credentials and region as boto3 finds them (AWS_PROFILE, AWS_DEFAULT_REGION…).
SITE_TENANT ?=
WITH_DATA   ?=

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NPM):
	@$(call APT_INSTALL,nodejs npm)

$(NODE_STAMP): package.json package-lock.json | $(NPM)
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Swagger UI for the API browser (/api-docs/) is vendored in the package (with its licence), so a wheel built by
# plain `pip wheel .` carries it and installing needs no npm. `make vendor` refreshes it from the version pinned in
# package-lock.json; a test keeps the two equal.
VENDOR := gallery/site/theme/assets/vendor/swagger-ui
vendor: $(NODE_STAMP)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		node_modules/swagger-ui-dist/LICENSE $(VENDOR)/
	node -p 'require("./node_modules/swagger-ui-dist/package.json").version' > $(VENDOR)/VERSION

# The checkout's own data folder (`gallery` alone uses the user's data folder, never the one it starts in).
serve: $(STAMP)
	GALLERY_DATA_DIR=$${GALLERY_DATA_DIR:-.gallery} $(BIN)/gallery serve --demo

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint deploy/stack.yaml
	$(BIN)/hadolint Dockerfile
	$(NODE_BIN)/tsc -p tsconfig.json
	$(NODE_BIN)/eslint gallery/site/theme/assets tests/js

$(CHROMIUM):
	@$(call APT_INSTALL,chromium)

# The Lambda zips first: the deploy's test deploys them (to a moto server).
test: lint $(CHROMIUM) package
	node --test tests/js/
	$(BIN)/pytest
	GALLERY_TEST_BACKEND=aws $(BIN)/pytest $(AWS_SUITES)

# The quick loop while working: no browser, no server, no process, no AWS emulation (tests/conftest.py says which
# tests are slow); under a minute. `make test` runs everything.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

test-aws: $(STAMP)
	GALLERY_TEST_BACKEND=aws $(BIN)/pytest $(AWS_SUITES)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The zips hold the pinned runtime (requirements/runtime.txt) and the project, nothing else: Zappa's command
# line runs from the dev env and packages the Lambda env (VIRTUAL_ENV).
package: $(STAMP)
	rm -rf $(LAMBDA_VENV) && $(PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --upgrade pip
	$(LAMBDA_VENV)/bin/pip install --quiet --no-deps -r requirements/runtime.txt
	$(LAMBDA_VENV)/bin/pip install --quiet --no-deps .
	rm -rf build/lib build/bdist.* *.egg-info
	mkdir -p build
	for stage in $(STAGE) $(STAGE)_publisher; do \
		VIRTUAL_ENV=$(abspath $(LAMBDA_VENV)) $(BIN)/zappa package $$stage -o build/lambda-$$stage.zip || exit 1; \
	done
	$(BIN)/python .ci/check_package.py build/lambda-$(STAGE).zip
	$(BIN)/python .ci/check_package.py --publisher build/lambda-$(STAGE)_publisher.zip

deploy: package
	$(BIN)/python -m deploy up --stage $(STAGE) --site-tenant '$(SITE_TENANT)'

destroy: $(STAMP)
	$(BIN)/python -m deploy down --stage $(STAGE) $(if $(WITH_DATA),--with-data,)

# The first administrator of a stage (a SYS_ADMIN; the password is asked for), from this machine: the `gallery`
# command with the stage's settings, reading the token secret from SSM as the functions do.
admin: $(STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make admin STAGE=dev EMAIL=you@example.com" >&2; exit 2; }
	eval "$$($(BIN)/python -m deploy env --stage $(STAGE))" && $(BIN)/gallery users create '$(EMAIL)' --role SYS_ADMIN

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) build .pytest_cache .mypy_cache .ruff_cache node_modules
