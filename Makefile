# pagedserve: the two fresh-machine commands are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 8000
MODEL ?= models/stories260K

.PHONY: deps configure build test run clean

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: build
	$(BUILD_DIR)/pagedserve serve --model $(MODEL) --host $(HOST) --port $(PORT)

clean:
	rm -rf $(BUILD_DIR)
