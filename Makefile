# Berth - one binary, bin/berth.  See README.md.
#
#   make            release build -> bin/berth
#   make run        install runtime packages, build, start on ./data (prints admin password + URL)
#   make test       install packages, build with ASan+UBSan, run unit, fuzz-replay, black-box and
#                   browser (tests/ui: Node, npm ci, Debian's Chromium) tests
#   make ui         the browser tests only
#   make test-scaleout  the scale-out suites only (tests/blackbox/scaleout_*.sh: PostgreSQL,
#                   radosgw, two replicas behind haproxy)
#   make unit       unit tests only (ASan+UBSan build)
#   make lint       clang-format, cppcheck, banned calls, layer dependencies
#   make bench      Berth side by side with distribution 2.8 (docker-registry) and nginx: req/s,
#                   latency percentiles, stalls, CPU per request, peak RSS, scaling by cores
#   make bench-bundle  build/bench-bundle/: berth, loadgen, nginx, curl, jq, taskset and their
#                   libraries, with tests/bench/device.sh, for a lent many-core machine
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS per target (default 60)
#   make mutate     plant the one-line bugs of tests/mutate/mutations.txt, one at a time, in a
#                   scratch copy; print the ones no test caught (not part of `make test`)

CC      ?= cc
PKGS    := libmicrohttpd openssl jansson sqlite3 libpq libarchive libcurl yaml-0.1 libxml-2.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

WARN    := -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wundef \
           -Wwrite-strings -Wnull-dereference -fno-common
BASE    := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -I. $(WARN) $(PKG_CFLAGS) -MMD -MP

MODE ?= release
ifeq ($(MODE),asan)
  MODE_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -DBERTH_TEST_BUILD
  MODE_LDFLAGS := -fsanitize=address,undefined
else
  MODE_FLAGS := -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
  MODE_LDFLAGS :=
endif
CFLAGS  ?=
ALL_CFLAGS := $(BASE) $(MODE_FLAGS) $(CFLAGS)

B       := build/$(MODE)
DIRS    := common config storage auth http registry api service cli puller
ALL_C   := $(wildcard $(addsuffix /*.c,$(DIRS)))
TEST_C  := $(filter %_test.c,$(ALL_C))
GEN_C   := $(B)/gen/ui_assets.c
LIB_C   := $(filter-out %_test.c cli/main.c,$(ALL_C))
LIB_O   := $(LIB_C:%.c=$(B)/%.o) $(B)/gen/ui_assets.o
TESTS   := $(TEST_C:%.c=$(B)/tests/%)
FUZZ_C  := $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))
FUZZ_REPLAY := $(FUZZ_C:tests/fuzz/%.c=$(B)/fuzz/%)
WEBUI   := $(wildcard webui/* webui/*/*)

.PHONY: all run test test-scaleout unit blackbox ui lint bench bench-bundle fuzz mutate clean deps deps-test check-deps asan-bin
.DEFAULT_GOAL := all

all: bin/berth

bin/berth: $(B)/berth
	@mkdir -p bin
	cp $< $@.tmp && mv -f $@.tmp $@

$(B)/berth: $(B)/cli/main.o $(B)/libberth.a
	$(CC) $(MODE_FLAGS) $(MODE_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/libberth.a: $(LIB_O)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(GEN_C): scripts/embed.sh $(WEBUI)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh webui > $@.tmp && mv $@.tmp $@

$(B)/gen/ui_assets.o: $(GEN_C)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(B)/tests/%: $(B)/%.o $(B)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(MODE_FLAGS) $(MODE_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(B)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ tests/fuzz/replay.c $< $(B)/libberth.a $(MODE_LDFLAGS) $(PKG_LIBS)

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

run: deps
	@$(MAKE) --no-print-directory bin/berth
	bin/berth serve --data $${DATA:-./data} --listen $${LISTEN:-127.0.0.1:5000}

# the test build: same sources, ASan + UBSan
asan-bin:
	@$(MAKE) --no-print-directory MODE=asan build/asan/berth \
		$(TEST_C:%.c=build/asan/tests/%) $(FUZZ_C:tests/fuzz/%.c=build/asan/fuzz/%)

unit: deps
	@$(MAKE) --no-print-directory asan-bin
	@sh tests/run.sh --unit

# the browser tests' npm packages, pinned in tests/ui/package-lock.json; only `make test` and
# `make ui` need Node and the registry, `make` itself never does
UI_NPM := tests/ui/node_modules/.berth-installed

$(UI_NPM): tests/ui/package.json tests/ui/package-lock.json
	cd tests/ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test: deps-test
	@$(MAKE) --no-print-directory bin/berth asan-bin $(UI_NPM)
	@sh tests/run.sh

ui: deps-test
	@$(MAKE) --no-print-directory asan-bin $(UI_NPM)
	@sh tests/run.sh --ui

test-scaleout: deps-test
	@$(MAKE) --no-print-directory bin/berth asan-bin
	@sh tests/run.sh --scaleout

blackbox: deps-test
	@$(MAKE) --no-print-directory asan-bin
	@sh tests/run.sh --blackbox

# the benchmark's load generator: not part of plain `make` (it needs libhttp-parser-dev)
BENCH_LG := build/bench/loadgen

$(BENCH_LG): tests/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -g -o $@ $< -lhttp_parser -ljansson -lpthread

bench: deps-test
	@$(MAKE) --no-print-directory bin/berth $(BENCH_LG)
	@bash tests/bench/bench.sh

bench-bundle: deps-test
	@$(MAKE) --no-print-directory bin/berth $(BENCH_LG)
	@bash tests/bench/bundle.sh build/bench-bundle

lint: check-deps
	@sh scripts/lint.sh

check-deps:
	@sh scripts/check-deps.sh

fuzz:
	@sh tests/fuzz/build.sh

# the scratch copy starts from build/asan when there is one, so build it first
mutate:
	@$(MAKE) --no-print-directory asan-bin
	@python3 tests/mutate/mutate.py

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
