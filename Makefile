# Obra: two commands on a fresh machine.  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export OBRA_HOME ?= $(CURDIR)/obra-data

.PHONY: demo test test-long bench system-deps serve clean

$(STAMP): pyproject.toml deps/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c deps/constraints.txt -e '.[spark,test,bench]'
	touch $(STAMP)

# Audio/video content codes need Debian's ffmpeg and fpcalc (iscc-sdk must never download them);
# WeasyPrint's PDFs want HarfBuzz's subsetter, and fonts for every script on the machine
# (Noto: Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, CJK; DejaVu as last resort),
# since obra.render never fetches a font. The portal's browser tests drive Debian's chromium (Playwright never
# downloads a browser here), and its bench loads it with hey.
SYSTEM_PACKAGES := ffmpeg libchromaprint-tools libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk fonts-dejavu-core chromium hey
system-deps:
	@if ! command -v ffmpeg >/dev/null || ! command -v fpcalc >/dev/null || ! ldconfig -p | grep -q libharfbuzz-subset \
	    || ! command -v chromium >/dev/null || ! command -v hey >/dev/null \
	    || ! fc-list | grep -q "Noto Sans CJK" || ! fc-list | grep -q "NotoSans-Regular" || ! fc-list | grep -q "DejaVuSans.ttf"; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	  else sudo apt-get install -y --no-install-recommends $(SYSTEM_PACKAGES); fi; \
	fi

demo: $(STAMP) system-deps
	$(BIN)/obra demo

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

# The fuzzers and fault tests with many more examples and kills than CI's bounded run
# (see docs/reliability.md); takes tens of minutes.
test-long: $(STAMP) system-deps
	OBRA_LONG_TESTS=1 $(BIN)/python -m pytest -q

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

serve: $(STAMP)
	$(BIN)/obra serve

clean:
	rm -rf $(VENV) obra-data .pytest_cache bench/results.json
