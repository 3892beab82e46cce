# Every target creates the virtual environment it needs, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The API suites run a second time on the aws backend: DynamoDB + S3 on a moto server over real HTTP.
AWS_SUITES := tests/test_api_*.py tests/test_permissions.py tests/test_bad_input.py tests/test_tb_rest_client.py

.PHONY: serve test test-aws lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/gallery serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest
	GALLERY_TEST_BACKEND=aws $(BIN)/pytest $(AWS_SUITES)

test-aws: $(STAMP)
	GALLERY_TEST_BACKEND=aws $(BIN)/pytest $(AWS_SUITES)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
