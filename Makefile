# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint check pytest bench browser-deps pdf-font messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The CJK font every PDF embeds (settings.PDF_FONT): Debian's WenQuanYi Micro Hei, TrueType
# outlines, Apache 2.0. Without it PDFs still work with a non-embedded font, so `make run` goes
# on if it cannot be installed (`manage.py check` then warns, lib.W001).
PDF_FONT_FILE := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
pdf-font:
	@test -f $(PDF_FONT_FILE) || { \
		echo "Installing Debian's fonts-wqy-microhei for the PDFs..."; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; } \
		|| echo "Could not install fonts-wqy-microhei: PDFs will use a non-embedded font."; }

# Debian's Chromium drives the browser tests; Playwright never downloads a browser. The tests
# check that PDFs embed their font, so the font must be there.
browser-deps: pdf-font
	@test -f $(PDF_FONT_FILE) || { echo "$(PDF_FONT_FILE) is missing"; exit 1; }
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Web server, task worker and scheduler together (Procfile, run by honcho); Ctrl-C stops all.
# Jobs and reports are queued in the database (SQLite by default) for the worker.
run: export TASKS_BACKEND ?= database
run: export PYTHONUNBUFFERED = 1
run: install pdf-font
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(VENV)/bin/honcho start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_import_cycles.py

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# Across the cores with pytest-xdist (a test database per worker; at most 4, see pyproject.toml).
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= auto
pytest: install browser-deps
	$(PY) -m pytest -n $(PYTEST_WORKERS)

test: lint check pytest

bench: install
	$(PY) bench/run.py

# Regenerate the Chinese translations after changing user-visible strings (needs gettext).
messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var db.sqlite3*
