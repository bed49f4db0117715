# identities: common tasks. `make help` lists them.
GO        ?= go
BIN       ?= bin/identities
ADDR      ?= 127.0.0.1:8080
DB        ?= identities.db
LINT_DIR  := tools/lint
DOCS_DIR  := tools/docs
DOCS_ASSETS := internal/docsui/assets
RELEASED  ?= api/released/openapi.yaml
# RACE is go with the flags of make test's race-detector builds, which vet and
# check-breaking share so that they reuse what the tests compile:
#   - our code and every Go dependency are instrumented, except modernc.org's
#     SQLite and libc: SQLite's C translated to Go, whose memory SQLite's own
#     locks guard. Instrumenting each load and store of its virtual machine
#     (and the pointer checks -race implies) cost a third of the CPU of every
#     test that touches the store, and could not find a race in our code;
#   - no DWARF (-dwarf=false, -w), a sixth of the build: the tests are not
#     run under a debugger, and stack traces and race reports come from the
#     symbol table, which stays.
# In GOFLAGS, so that the builds of the program the tests make get them too.
# GORACE: a race-detector binary waits a second before it exits for late
# reports; go test waits for each package's tests, so they exit at once.
RACE_GOFLAGS := '-gcflags=all=-dwarf=false' -ldflags=-w \
	'-gcflags=modernc.org/libc/...=-dwarf=false -race=false' \
	'-gcflags=modernc.org/sqlite/lib=-dwarf=false -race=false'
RACE      := GOFLAGS="$(RACE_GOFLAGS) $(GOFLAGS)" GORACE="atexit_sleep_ms=0 $(GORACE)" $(GO)

.PHONY: help run build generate check-generated check-breaking lint-spec docs-assets test test-short bench bench-scale vet ci

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: build ## Run the server on the embedded store with demo data (Ctrl-C stops it).
	exec $(BIN) serve --addr $(ADDR) --db $(DB) --demo

build: ## Build the program into bin/.
	$(GO) build -trimpath -o $(BIN) ./cmd/identities

generate: ## Regenerate gen/ from api/openapi.yaml; gen/ holds nothing else, so a file no configuration writes any more goes.
	rm -f gen/*.gen.go
	$(GO) generate ./api/...

check-generated: generate ## Fail when gen/ differs from what api/openapi.yaml generates.
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { echo "gen/ has untracked generated files" >&2; git status --porcelain -- gen/ >&2; exit 1; }

check-breaking: ## Fail on a breaking change since api/released/openapi.yaml (RELEASED) unless info.version's major is raised; prints the next CHANGELOG section.
	$(RACE) run -race ./cmd/identities diff --gate --format markdown $(RELEASED) api/openapi.yaml # -race: shares its build with make test

lint-spec: ## Lint api/openapi.yaml with the pinned Redocly CLI.
	cd $(LINT_DIR) && npm ci --no-audit --no-fund --loglevel=error
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	$(LINT_DIR)/node_modules/.bin/redocly lint --config $(LINT_DIR)/redocly.yaml --format stylish api/openapi.yaml

docs-assets: ## Vendor the pinned Swagger UI (tools/docs) that GET /docs serves into internal/docsui/assets.
	cd $(DOCS_DIR) && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	find $(DOCS_ASSETS) -type f ! -name README.md -delete
	cd $(DOCS_DIR)/node_modules/swagger-ui-dist && cp LICENSE NOTICE favicon-32x32.png swagger-ui.css \
		swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt $(CURDIR)/$(DOCS_ASSETS)/
	sed -i -e 's|/\*# sourceMappingURL=[^*]*\*/||' -e 's|//# sourceMappingURL=.*$$||' $(DOCS_ASSETS)/swagger-ui-bundle.js $(DOCS_ASSETS)/swagger-ui.css
	gzip -9 -n -k -f $(DOCS_ASSETS)/swagger-ui-bundle.js $(DOCS_ASSETS)/swagger-ui.css # served as they are to clients that take gzip
	node -p '"swagger-ui-dist " + require("./$(DOCS_DIR)/node_modules/swagger-ui-dist/package.json").version' > $(DOCS_ASSETS)/VERSION

.PHONY: replay-libopenapi
replay-libopenapi: ## Replay the recorded exchanges of internal/exchanges through libopenapi-validator; fail on any violation.
	$(GO) test -count=1 -tags replay -run '^TestLibopenapiValidator$$' -v ./internal/exchanges

.PHONY: replay-prism
replay-prism: ## Replay the recorded exchanges of internal/exchanges through Stoplight Prism's validating proxy; fail on any response violation.
	cd tools/prism && SCARF_ANALYTICS=false npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error
	$(GO) test -count=1 -run '^TestPrism$$' -v ./internal/exchanges/prism -args -prism=$(CURDIR)/tools/prism/node_modules/.bin/prism

vet: ## go vet every package (with -race, so that make test reuses what it compiles).
	$(RACE) vet -race ./...

# TEST_FIRST are the packages whose tests take longest, named before ./...:
# go test starts each package's tests once its binary is built, in the order
# the packages are named. Started early, the waits of these tests (on
# PostgreSQL, Chromium, the programs they run) overlap the compiling of the
# rest, instead of the CPU idling while they end the run.
TEST_FIRST := ./cmd/identities ./conformance ./server ./store/postgres ./internal/docsui ./contract ./client/clienttest

test: ## Run every test with the race detector (make vet runs every vet check).
	$(RACE) test -race -vet=off -count=1 $(TEST_FIRST) ./... # go test's own vet subset would compile every dependency's facts a second time

test-short: ## Run the tests without the slow ones.
	$(GO) test -short -count=1 ./...

bench: ## Run the benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./...

SCALE ?= 10000,100000,1000000
bench-scale: ## Page costs at 10k, 100k and 1M identities per family, side by side, on SQLite, through the handler, and on PostgreSQL when it answers (stores are seeded once and kept).
	$(GO) test -run '^$$' -bench 'Scale' -benchtime=10x -timeout 90m ./store/sqlite ./server ./store/postgres -args -scale=$(SCALE) | tee bench-scale.txt
	$(GO) tool benchstat -col /size bench-scale.txt

ci: lint-spec check-generated vet test ## What CI runs.
