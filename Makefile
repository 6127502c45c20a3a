# fangkong — two commands: `make demo` runs the platform, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint types contracts migrations pytest e2e-browser messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/fangkong demo

test: $(STAMP) lint types contracts migrations pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy src

contracts: $(STAMP)
	$(BIN)/lint-imports

migrations: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

e2e-browser:
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will fail")
	@test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || (command -v apt-get >/dev/null && (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) || echo "no CJK font: the report's charts will be in English")

pytest: $(STAMP) e2e-browser
	$(BIN)/pytest

messages: $(STAMP)
	cd src/fangkong && ../../$(BIN)/python ../../manage.py makemessages -l zh_Hans --no-obsolete && ../../$(BIN)/python ../../manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
