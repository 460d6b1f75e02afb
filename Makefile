# Repurpose — make help lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
TOOLS := $(GO) tool -modfile=tools/go.mod
GOTESTFLAGS ?=
PKGS := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build the server binary at bin/repurpose and the AI provider plugins into bin/plugins
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/repurpose ./cmd/repurpose
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/plugins/ ./plugins/...

.PHONY: run
run: build ## run the platform with the embedded default (in memory) at http://localhost:8080 (docs at /docs)
	./bin/repurpose serve

.PHONY: test
test: ## unit + integration tests under -race (integration needs TEST_DATABASE_URL/TEST_REDIS_URL or Docker)
	$(GO) test -race -count=1 $(GOTESTFLAGS) $(PKGS)
	$(GO) test -race -count=1 -tags noaisdks $(GOTESTFLAGS) ./adapters/aiproviders/...

.PHONY: test-unit
test-unit: ## unit tests only (integration tests skip under -short)
	$(GO) test -race -count=1 -short $(GOTESTFLAGS) $(PKGS)

.PHONY: cover
cover: ## tests with a coverage profile (coverage.out) and a per-function summary
	$(GO) test -race -count=1 -covermode=atomic -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -n 1

.PHONY: bench
bench: build ## Go benchmarks, the loopback load test of GET /api/auth/me, and (with DATABASE_URL/REDIS_URL) the pipeline load test
	$(GO) test -run '^$$' -bench . -benchmem ./adapters/jwt/... ./adapters/httpapi/... ./adapters/memory/... ./adapters/redis/... ./core/airouter/... ./adapters/aiplugin/...
	$(GO) run ./cmd/loadtest
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then $(GO) run ./cmd/pipelinebench; \
	else echo "pipelinebench skipped: set DATABASE_URL and REDIS_URL (a throwaway database) to run it"; fi

FUZZTIME ?= 30s
# package:target pairs of every fuzz target.
FUZZ_TARGETS := ./adapters/extract:FuzzExtractTXT ./adapters/extract:FuzzExtractHTML ./adapters/extract:FuzzExtractDOCX \
	./adapters/extract:FuzzExtractPDF ./core:FuzzSanitizeFilename ./adapters/localai:FuzzGenerate

.PHONY: fuzz
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime expires (golang/go#75804, fixed in Go
# 1.27): such a run, which wrote no failing input, runs once more; any other
# failure, and a second one, fails.
fuzz: ## run every fuzz target for FUZZTIME each (default 30s; CI runs them briefly)
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		for try in 1 2; do \
			echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
			if out=$$($(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 3s $$pkg 2>&1); then echo "$$out"; break; fi; \
			echo "$$out"; \
			if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz $$name: the coordinator's -fuzztime race (golang/go#75804), no failing input: running it again"; continue; fi; \
			exit 1; done; done

.PHONY: lint
lint: ## go vet, gofmt, golangci-lint (depguard keeps core/ and ports/ free of infrastructure)
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(TOOLS) golangci-lint run ./...
	$(GO) vet -tags $(LAMBDA_API_TAGS) ./adapters/aiproviders/... ./bootstrap/... ./functions/...
	$(TOOLS) golangci-lint run --build-tags $(LAMBDA_API_TAGS) ./adapters/aiproviders/... ./bootstrap/... ./functions/...

.PHONY: generate
generate: generate-proto ## regenerate mocks (mockery v3, .mockery.yml) and the plugin gRPC code
	$(TOOLS) mockery

.PHONY: generate-proto
generate-proto: ## regenerate plugins/proto/aiproviderv1 (protoc: apt-get install protobuf-compiler; plugins pinned in tools/go.mod)
	@command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
	protoc -I plugins/proto \
		--plugin=protoc-gen-go="$$($(TOOLS) -n protoc-gen-go)" --go_out=. --go_opt=module=github.com/repurpose/repurpose \
		--plugin=protoc-gen-go-grpc="$$($(TOOLS) -n protoc-gen-go-grpc)" --go-grpc_out=. --go-grpc_opt=module=github.com/repurpose/repurpose \
		plugins/proto/aiprovider.proto

.PHONY: tidy-check
tidy-check: ## fail when go mod tidy or make generate would change files
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
	$(MAKE) generate && git diff --exit-code -- ports/mocks plugins/proto

.PHONY: docs-assets
docs-assets: ## re-fetch the pinned Swagger UI and ReDoc assets from npm
	./scripts/update-docs-assets.sh

.PHONY: clean
clean: ## remove build outputs
	rm -rf bin coverage.out

# Lambda (template.yaml): `sam build` runs build-<Function> with ARTIFACTS_DIR
# set; each writes a static `bootstrap` for provided.al2023 (arm64 unless
# LAMBDA_GOARCH says otherwise), without the net/rpc runtime (lambda.norpc)
# nor the AI plugin host (noaiplugins: the functions run compiled-in
# providers, and go-plugin with gRPC only slowed their cold start).
LAMBDA_GOARCH ?= arm64
ARTIFACTS_DIR ?= bin/lambda
LAMBDA_TAGS = lambda.norpc,noaiplugins
# The API function never calls a vendor (the worker does): without the
# vendor SDKs (noaisdks) its binary is 35 MiB instead of 88 MiB and it
# starts faster; openai and anthropic are still listed with their models.
LAMBDA_API_TAGS = $(LAMBDA_TAGS),noaisdks
lambda_build = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags $(1) -trimpath -ldflags "$(LDFLAGS)" -o $(ARTIFACTS_DIR)/bootstrap
LAMBDA_BUILD = $(call lambda_build,$(LAMBDA_TAGS))

.PHONY: build-ApiFunction build-WorkerFunction build-SweeperFunction build-MigrateFunction lambda lambda-coldstart
build-ApiFunction: ## (sam build) functions/api as $(ARTIFACTS_DIR)/bootstrap
	$(call lambda_build,$(LAMBDA_API_TAGS)) ./functions/api
build-WorkerFunction: ## (sam build) functions/worker as $(ARTIFACTS_DIR)/bootstrap
	$(LAMBDA_BUILD) ./functions/worker
build-SweeperFunction: ## (sam build) functions/sweeper as $(ARTIFACTS_DIR)/bootstrap
	$(LAMBDA_BUILD) ./functions/sweeper
build-MigrateFunction: ## (sam build) functions/migrate as $(ARTIFACTS_DIR)/bootstrap
	$(LAMBDA_BUILD) ./functions/migrate

lambda: ## build the four Lambda functions into bin/lambda/<function>/bootstrap
	$(MAKE) build-ApiFunction ARTIFACTS_DIR=bin/lambda/api
	$(MAKE) build-WorkerFunction ARTIFACTS_DIR=bin/lambda/worker
	$(MAKE) build-SweeperFunction ARTIFACTS_DIR=bin/lambda/sweeper
	$(MAKE) build-MigrateFunction ARTIFACTS_DIR=bin/lambda/migrate
	@ls -l bin/lambda/*/bootstrap

lambda-coldstart: ## binary size and cold start of functions/api next to a hello-world function under the Lambda emulator (needs TEST_DATABASE_URL, TEST_REDIS_URL)
	COLDSTART_RUNS=$${COLDSTART_RUNS:-5} $(GO) test -run '^TestColdStart$$' -count=1 -v ./functions/
