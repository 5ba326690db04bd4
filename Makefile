# ducktail — see README.md. Everything builds with the duckdb_arrow tag:
# DuckDB's Arrow interface (query/sqlengine) is behind it.
GO       ?= go
TAGS     := duckdb_arrow
BIN      := bin/ducktail
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# A count, not a duration: a -fuzztime duration races the fuzz coordinator's
# deadline on a loaded machine and fails with "context deadline exceeded"
# having found nothing (golang/go#75804, fixed only in Go 1.27).
FUZZTIME ?= 10000x

# Fuzz targets run briefly by `make test`: package:target.
FUZZ := \
	./engine/arrowipc:FuzzDecode \
	./engine/schema:FuzzParseType \
	./engine/jtd:FuzzParse \
	./engine/jtd:FuzzValidate \
	./server/path:FuzzParse \
	./server:FuzzParseBulk \
	./server:FuzzParseCSV \
	./server:FuzzParseForm \
	./server/token:FuzzVerify \
	./server/encode:FuzzAppendJSONUTF8

.PHONY: build run test unit js fuzz bench lint clean

build:
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ducktail

run: build
	./$(BIN) serve

test: lint unit js fuzz

unit:
	$(GO) test -tags $(TAGS) -count=1 -timeout 30m ./...

# The browser client's unit tests, when Node and its packages are installed
# (.ci/run installs them: npm ci --prefix clients/js).
js:
	@if [ -d clients/js/node_modules ] && command -v node >/dev/null 2>&1; then \
		cd clients/js && node --test; \
	else \
		echo "skipping clients/js tests: run npm ci --prefix clients/js (needs Node)"; \
	fi

fuzz:
	@for t in $(FUZZ); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -tags $(TAGS) -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

bench: build
	bash bench/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...

clean:
	rm -rf bin
