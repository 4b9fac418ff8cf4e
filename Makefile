# rtpvault - one non-recursive Makefile.
#
#   make            release build: build/rel/rtpvault
#   make DPDK=0     build without DPDK even when libdpdk is installed
#   make test       deps, build, every test suite, ASan+UBSan run; last line "N passed, N failed"
#   make demo       deps, build, record a generated scenario, list, export a WAV
#   make fuzz       each libFuzzer target for FUZZ_SECONDS
#   make bench      benchmarks (docs/performance.md)
#
# Object files of every variant live under build/<variant>/ so release,
# sanitizer and no-DPDK builds coexist without recursion.

SHELL := /bin/bash
V ?= 0
ifeq ($(V),0)
Q := @
MSG = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
MSG =
endif
CC ?= gcc
CLANG ?= clang
PYTHON ?= python3
B := build

ifeq ($(origin DPDK),undefined)
DPDK := $(shell pkg-config --exists libdpdk 2>/dev/null && echo 1 || echo 0)
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(WARN) -Iparsers -Iengine -Istorage
REL_CFLAGS := $(BASE_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS)

ENGINE_PKGS := libpcap lmdb libcrypto spandsp opus libbcg729
PKG_CFLAGS := $(shell pkg-config --cflags $(ENGINE_PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(ENGINE_PKGS) 2>/dev/null) -lpthread -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

PARSER_SRCS := $(sort $(wildcard parsers/*.c))
STORAGE_SRCS := $(sort $(wildcard storage/*.c))
ENGINE_ALL := $(sort $(wildcard engine/*.c))
DPDK_SRCS := $(filter engine/dpdk%.c,$(ENGINE_ALL))
CLI_SRCS := $(wildcard engine/main.c engine/cli_*.c engine/stats.c)
ENGINE_SRCS := $(filter-out $(CLI_SRCS) $(DPDK_SRCS),$(ENGINE_ALL))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))

ifeq ($(DPDK),1)
DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk)
DPDK_LIBS := $(shell pkg-config --libs libdpdk) -lrte_net_ring
DPDK_DEF := -DRV_HAVE_DPDK=1
else
DPDK_SRCS :=
DPDK_DEF := -DRV_HAVE_DPDK=0
endif

# objects per variant
objs = $(patsubst %.c,$(B)/$(1)/%.o,$(2))
REL_PARSER_OBJS := $(call objs,rel,$(PARSER_SRCS))
REL_LIB_OBJS := $(call objs,rel,$(PARSER_SRCS) $(STORAGE_SRCS) $(ENGINE_SRCS) $(DPDK_SRCS))
ASAN_PARSER_OBJS := $(call objs,asan,$(PARSER_SRCS))
ASAN_LIB_OBJS := $(call objs,asan,$(PARSER_SRCS) $(STORAGE_SRCS) $(ENGINE_SRCS))
NODPDK_LIB_OBJS := $(call objs,nodpdk,$(PARSER_SRCS) $(STORAGE_SRCS) $(ENGINE_SRCS))

REL_BIN := $(B)/rel/rtpvault
ASAN_BIN := $(B)/asan/rtpvault
NODPDK_BIN := $(B)/nodpdk/rtpvault
REL_UNITS := $(patsubst tests/unit/%.c,$(B)/rel/tests/%,$(UNIT_SRCS))
ASAN_UNITS := $(patsubst tests/unit/%.c,$(B)/asan/tests/%,$(UNIT_SRCS))
REPLAYS := $(patsubst %,$(B)/asan/replay_%,$(FUZZ_NAMES))
FUZZERS := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_NAMES))

.PHONY: all deps test demo fuzz bench clean docs check-nodpdk
all: $(REL_BIN) rtpvault

rtpvault: $(REL_BIN)
	ln -sf $(REL_BIN) rtpvault

deps:
	@bash scripts/install-deps.sh

# --- compile rules (one per variant) ---
$(B)/rel/engine/dpdk%.o: engine/dpdk%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(REL_CFLAGS) $(DPDK_DEF) $(DPDK_CFLAGS) -Wno-missing-prototypes -MMD -MP -c $< -o $@
$(B)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(REL_CFLAGS) $(DPDK_DEF) $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ASAN_CFLAGS) -DRV_HAVE_DPDK=0 $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(B)/nodpdk/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(REL_CFLAGS) -DRV_HAVE_DPDK=0 $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# --- binaries ---
$(REL_BIN): $(call objs,rel,$(CLI_SRCS)) $(REL_LIB_OBJS)
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(DPDK_LIBS)
$(ASAN_BIN): $(call objs,asan,$(CLI_SRCS)) $(ASAN_LIB_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)
$(NODPDK_BIN): $(call objs,nodpdk,$(CLI_SRCS)) $(NODPDK_LIB_OBJS)
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS)

# unit tests: parser tests link parsers only (proves they need libc only)
$(B)/rel/tests/test_p_%: $(B)/rel/tests/unit/test_p_%.o $(REL_PARSER_OBJS)
	$(Q)$(CC) -o $@ $^ $(CMOCKA_LIBS)
$(B)/asan/tests/test_p_%: $(B)/asan/tests/unit/test_p_%.o $(ASAN_PARSER_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS)
# storage tests link storage alone (proves it knows nothing of packets)
REL_STORAGE_OBJS := $(call objs,rel,$(STORAGE_SRCS))
ASAN_STORAGE_OBJS := $(call objs,asan,$(STORAGE_SRCS))
$(B)/rel/tests/test_s_%: $(B)/rel/tests/unit/test_s_%.o $(REL_STORAGE_OBJS)
	$(Q)$(CC) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)
$(B)/asan/tests/test_s_%: $(B)/asan/tests/unit/test_s_%.o $(ASAN_STORAGE_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)
# config tests link the config module alone
$(B)/rel/tests/test_c_%: $(B)/rel/tests/unit/test_c_%.o $(B)/rel/engine/config.o $(REL_PARSER_OBJS)
	$(Q)$(CC) -o $@ $^ $(CMOCKA_LIBS)
$(B)/asan/tests/test_c_%: $(B)/asan/tests/unit/test_c_%.o $(B)/asan/engine/config.o $(ASAN_PARSER_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS)
$(B)/rel/tests/test_%: $(B)/rel/tests/unit/test_%.o $(REL_LIB_OBJS)
	$(Q)$(CC) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) $(DPDK_LIBS)
$(B)/asan/tests/test_%: $(B)/asan/tests/unit/test_%.o $(ASAN_LIB_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)

# benchmark harnesses (make bench): tests/bench/bench_*.c linked with the engine
$(B)/rel/bench/bench_%: $(B)/rel/tests/bench/bench_%.o $(REL_LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) -o $@ $^ $(PKG_LIBS) $(DPDK_LIBS)

# replay mains for fuzz targets (gcc + ASan/UBSan): reproduce crashes without clang.
# fuzz_p_* link the parsers alone; every other tests/fuzz/fuzz_*.c (engine, pcapfile)
# links the DPDK=0 engine and PKG_LIBS, libpcap among them.
$(B)/asan/replay_p_%: $(B)/asan/tests/fuzz/fuzz_p_%.o $(B)/asan/tests/fuzz/replay_main.o $(ASAN_PARSER_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^
$(B)/asan/replay_%: $(B)/asan/tests/fuzz/fuzz_%.o $(B)/asan/tests/fuzz/replay_main.o $(ASAN_LIB_OBJS)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer targets (clang)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iparsers -Iengine -Istorage -DRV_HAVE_DPDK=0 \
	-fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS)
$(B)/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(B)/fuzz/fuzz_p_%: $(B)/fuzz/tests/fuzz/fuzz_p_%.o $(call objs,fuzz,$(PARSER_SRCS))
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^
$(B)/fuzz/fuzz_%: $(B)/fuzz/tests/fuzz/fuzz_%.o $(call objs,fuzz,$(PARSER_SRCS) $(STORAGE_SRCS) $(ENGINE_SRCS))
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

FUZZ_SECONDS ?= 30
fuzz: $(FUZZERS)
	@for n in $(FUZZ_NAMES); do \
	  mkdir -p $(B)/fuzz/corpus/$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $(B)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/fuzz/crash-$$n- \
	    $(B)/fuzz/corpus/$$n $$( [ -d tests/fuzz/corpus/$$n ] && echo tests/fuzz/corpus/$$n ) \
	    $$( [ -d tests/regress/$$n ] && echo tests/regress/$$n ) >$(B)/fuzz/$$n.log 2>&1 \
	    || { echo "fuzz $$n FAILED: see $(B)/fuzz/$$n.log"; exit 1; }; \
	  tail -n 1 $(B)/fuzz/$$n.log; \
	done

check-nodpdk: $(NODPDK_BIN)

test: deps
	@$(MAKE) --no-print-directory build-tests
	@bash tests/run-all.sh

.PHONY: crash-long
crash-long: deps
	@$(MAKE) --no-print-directory $(REL_BIN)
	@bash scripts/crash-long.sh 1000

.PHONY: build-tests
build-tests: $(REL_BIN) $(ASAN_BIN) $(NODPDK_BIN) $(REL_UNITS) $(ASAN_UNITS) $(REPLAYS)

demo: deps
	@$(MAKE) --no-print-directory $(REL_BIN)
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory $(REL_BIN)
	@bash scripts/bench.sh

docs: $(REL_BIN)
	$(REL_BIN) config-doc > docs/config.md
	$(REL_BIN) config-default > etc/rtpvault.conf

clean:
	rm -rf $(B) rtpvault

-include $(shell find $(B) -name '*.d' 2>/dev/null)
