GO      ?= go
BIN     := bin/breakwater
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/breakwater-ci/breakwater/internal/cli.Version=$(VERSION)

.PHONY: build test demo bench lint lint-workflows clean

build:
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/breakwater

# Every test, plus the checks CI would otherwise reject.
test: lint lint-workflows
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# actionlint on the workflows; through `uses: ./` it also checks action.yml.
# It runs from the repository root so that `uses: ./` resolves, and runs
# shellcheck on run: scripts when shellcheck is installed. .ci/run installs
# both, so in CI this check cannot pass by being skipped.
ACTIONLINT ?= actionlint
lint-workflows:
	@command -v $(ACTIONLINT) >/dev/null 2>&1 || { \
	  echo "lint-workflows: actionlint is not on PATH. Install it with" >&2; \
	  echo "  go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12" >&2; \
	  echo "and put \$$(go env GOPATH)/bin on PATH (.ci/run does both)." >&2; \
	  exit 1; }
	@command -v shellcheck >/dev/null 2>&1 || \
	  echo "lint-workflows: shellcheck is not on PATH; run: scripts are not checked (apt-get install shellcheck)" >&2
	$(ACTIONLINT) .github/workflows/*.yml workflows/*.yml

# Runs breakwater on a bundled example; breakwater's exit code 1 (findings)
# is the expected outcome and does not fail make.
demo: build
	./scripts/demo.sh $(BIN)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./bench/dockerfiles.sh $(BIN) 2000
	./bench/monorepo.sh $(BIN) 5000 5
	./bench/migrations.sh $(BIN) 5

clean:
	rm -rf bin
