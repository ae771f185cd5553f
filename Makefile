GO      ?= go
BIN     := bin/breakwater
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/breakwater-ci/breakwater/internal/cli.Version=$(VERSION)

.PHONY: build test demo bench lint clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/breakwater

# Every test, plus the checks CI would otherwise reject.
test: lint
	$(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Runs breakwater on a bundled example; breakwater's exit code 1 (findings)
# is the expected outcome and does not fail make.
demo: build
	./scripts/demo.sh $(BIN)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./bench/dockerfiles.sh $(BIN) 2000

clean:
	rm -rf bin
