# Triggers — every command a newcomer, CI or an operator runs.
# `make help` lists the targets. The README's two set-up commands are
# `make run` and `make test`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
DIST      := $(CURDIR)/dist/functions
TRIGGERS  := $(BIN)/triggers
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# apt-get needs root; use sudo when we are not root and it exists.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

# Pinned tools, installed into ./bin by `make tools`.
STATICCHECK_VERSION := v0.8.2
RIE_VERSION         := v0.0.0-20261030222936-bef5c4ba774d

# Binaries are pure Go (no cgo). Only the race detector needs cgo, so tests
# set CGO_ENABLED=1 for themselves.

# jsii (the CDK's bridge to Node) starts Node while Go packages initialise, so
# the switch that silences its Node-version banner must be in the environment.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

LDFLAGS := -s -w -X main.version=$(VERSION)

ADDR ?= 127.0.0.1:8080
DATA ?= ./data

.PHONY: help
help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

## ---------------------------------------------------------------- build

.PHONY: build
build: build-cli build-functions ## Build the triggers binary and every Lambda zip

.PHONY: build-cli
build-cli: ## Build bin/triggers for this machine
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(TRIGGERS) ./cmd/triggers

.PHONY: build-functions
build-functions: ## Build dist/functions/<name>.zip (linux/arm64 bootstrap) for every function
	@mkdir -p $(DIST)
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath \
	    -ldflags '-s -w -X github.com/triggershq/triggers/pkg/lambdaenv.Version=$(VERSION)' \
	    -o $(DIST)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	  rm -f $(DIST)/$$fn.zip; \
	  (cd $(DIST)/$$fn && touch -d @0 bootstrap && zip -q -X $(DIST)/$$fn.zip bootstrap) || exit 1; \
	  echo "built $(DIST)/$$fn.zip ($$(du -k $(DIST)/$$fn.zip | cut -f1) KiB)"; \
	done

## ---------------------------------------------------------------- run

.PHONY: run
run: build-cli ## Build and serve on the embedded store (prints the URL and, on first start, an API key)
	$(TRIGGERS) serve --addr $(ADDR) --data $(DATA)

## ---------------------------------------------------------------- test

.PHONY: tools
tools: ## Install the pinned Go tools the tests and lint need into ./bin
	@mkdir -p $(BIN)
	@test -x $(BIN)/staticcheck || GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(BIN)/aws-lambda-rie || CGO_ENABLED=0 GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@# Debian's chromium renders /docs in a headless test; installed on first use.
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium (Debian package) for the /docs test"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@command -v moto_server >/dev/null 2>&1 || echo "warning: moto_server not on PATH: the AWS suites will fail under CI=true"
	@command -v cfn-lint >/dev/null 2>&1 || echo "warning: cfn-lint not on PATH: the CDK lint test will fail under CI=true"
	@command -v openapi-spec-validator >/dev/null 2>&1 || echo "warning: openapi-spec-validator not on PATH: the OpenAPI validator test will fail under CI=true"

.PHONY: test
test: tools lint build check-deps test-go test-cdk test-zapier ## Install test tools, lint, build, and run every test CI runs (race detector on)

.PHONY: test-go
test-go: tools ## Every Go test of the main module, integration suites included (moto, the Lambda emulator, the real binary)
	CGO_ENABLED=1 TRIGGERS_INTEGRATION=1 PATH="$(BIN):$$PATH" $(GO) test -race -count=1 -timeout 20m ./...

.PHONY: test-cdk
test-cdk: ## CDK stack tests: template assertions, route drift, least privilege, cfn-lint
	cd cdk && CGO_ENABLED=1 TRIGGERS_INTEGRATION=1 $(GO) test -race -count=1 -timeout 20m ./...

.PHONY: test-zapier
test-zapier: build-cli ## The Zapier app's tests (createAppTester against a real triggers serve)
	cd integrations/zapier && npm ci --no-audit --no-fund && \
	  TRIGGERS_ZAPIER_INSTANT=1 TRIGGERS_ZAPIER_SERVE_ARGS=--allow-private-webhooks npm test

.PHONY: test-short
test-short: ## Fast tests only (no integration suites)
	CGO_ENABLED=1 $(GO) test -race ./...

.PHONY: lint
lint: tools ## go vet + staticcheck + gofmt
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	cd cdk && $(GO) vet ./... && $(BIN)/staticcheck ./...

.PHONY: check-deps
check-deps: ## Fail if any Lambda function links CDK or jsii
	@deps=$$($(GO) list -deps ./functions/...) || exit 1; \
	  bad=$$(echo "$$deps" | grep -E 'aws-cdk-go|jsii-runtime-go|constructs-go' || true); \
	  if [ -n "$$bad" ]; then echo "functions must not depend on CDK/jsii:"; echo "$$bad"; exit 1; fi; \
	  echo "check-deps: no function links CDK or jsii ($$(echo "$$deps" | wc -l) packages checked)"

BENCH_OUT ?= dist/bench-$(shell date -u +%Y%m%d-%H%M).md

.PHONY: bench
bench: build-cli ## Run the HTTP and Go benchmarks; the report goes to stdout and dist/bench-*.md
	@mkdir -p dist
	{ $(GO) run ./internal/benchhttp -binary $(TRIGGERS) -cache $(CURDIR)/dist/bench-cache; \
	  echo '### Go benchmarks'; echo; echo '```'; \
	  $(GO) test -run '^$$' -bench . -benchmem ./pkg/auth ./pkg/boltstore ./pkg/webhook ./pkg/httpapi; \
	  echo '```'; } | tee $(BENCH_OUT)

## ---------------------------------------------------------------- deploy (AWS, cdk/)

STACK    ?= triggers-dev
CDK_CLI  ?= npx -y aws-cdk@2.1148.1
CDK_ARGS ?=

.PHONY: synth
synth: build-functions ## Synthesize the CloudFormation template into cdk/cdk.out (no AWS credentials needed)
	cd cdk && CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"stackName":"$(STACK)"}' TRIGGERS_DIST=$(DIST) $(GO) run .
	@echo "wrote cdk/cdk.out/$(STACK).template.json"

.PHONY: lint-cfn
lint-cfn: synth ## cfn-lint the synthesized template
	cfn-lint cdk/cdk.out/$(STACK).template.json

.PHONY: deploy
deploy: build-functions ## Deploy STACK to your AWS account (CDK CLI via npx; CDK_ARGS='-c key=value ...')
	cd cdk && TRIGGERS_DIST=$(DIST) $(CDK_CLI) deploy -c stackName=$(STACK) $(CDK_ARGS)

.PHONY: destroy
destroy: build-functions ## Delete STACK (the retained table, secret and logs stay; see docs/deploy.md)
	cd cdk && TRIGGERS_DIST=$(DIST) $(CDK_CLI) destroy -c stackName=$(STACK) $(CDK_ARGS)

.PHONY: clean
clean: ## Remove build output
	rm -rf $(BIN) dist
