# rullama build. One C11 tree, compiled two ways:
#   native (gcc):  tests with ASan/UBSan, tools, the native CLI
#   wasm (clang --target=wasm32-wasi, reactor): the engine Node and the browser load
# `make` builds everything; `make test` runs every suite; `make demo` is the main job.

CC          ?= gcc
WASM_CC     ?= clang
FUZZ_CC     ?= clang

WGSL        := $(sort $(wildcard kernels/*.wgsl))
KERNELS_C   := build/gen/kernels_embed.c
CORE_SRC    := $(wildcard src/*.c src/core/*.c src/cpu/*.c src/gpu/*.c src/platform/*.c) $(KERNELS_C)
CLI_SRC     := $(wildcard src/cli/*.c)
GEN_SRC     := $(wildcard tools/gen/*.c)
TEST_SRC    := $(wildcard tests/c/test_*.c)
TEST_LIB    := $(filter-out tests/c/test_%.c tests/c/harness.c,$(wildcard tests/c/*.c)) tests/c/harness.c
FUZZ_SRC    := $(wildcard fuzz/fuzz_*.c)

WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD        := -std=c11 -D_POSIX_C_SOURCE=200809L
NATIVE_OPT  := -O2 -g
SAN_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

WASM_CFLAGS := --target=wasm32-wasi -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext \
               $(WARN) -Wno-unused-command-line-argument
WASM_LDFLAGS:= -mexec-model=reactor -Wl,-z,stack-size=4194304 -Wl,--stack-first \
               -Wl,--initial-memory=33554432 -Wl,--max-memory=4294967296 \
               -Wl,--export=malloc -Wl,--export=free -Wl,--strip-debug

B           := build
NAT_OBJ     := $(patsubst %.c,$(B)/native/%.o,$(CORE_SRC))
SAN_OBJ     := $(patsubst %.c,$(B)/san/%.o,$(CORE_SRC))
TESTS       := $(patsubst tests/c/%.c,$(B)/san/bin/%,$(TEST_SRC))

.PHONY: all native wasm tests test demo deps fuzz clean bench

$(KERNELS_C): $(WGSL) scripts/embed-kernels.sh
	@mkdir -p $(dir $@)
	scripts/embed-kernels.sh $@ $(WGSL)
all: native wasm

native: $(B)/native/rullama $(if $(GEN_SRC),$(B)/native/rullama-gen)
wasm: $(B)/wasm/rullama.wasm $(if $(GEN_SRC),$(B)/wasm/rullama-gen.wasm)
tests: $(TESTS)

$(B)/native/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(NATIVE_OPT) -Isrc -Iinclude -MMD -MP -c $< -o $@

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) -Isrc -Iinclude -Itools -Itests/c -MMD -MP -c $< -o $@

$(B)/native/librl.a: $(NAT_OBJ)
	@rm -f $@; ar rcs $@ $^
$(B)/san/librl.a: $(SAN_OBJ)
	@rm -f $@; ar rcs $@ $^

$(B)/native/rullama: $(patsubst %.c,$(B)/native/%.o,$(CLI_SRC)) $(B)/native/librl.a
	$(CC) $(NATIVE_OPT) -o $@ $^ -lm

$(B)/native/rullama-gen: $(patsubst %.c,$(B)/native/%.o,$(GEN_SRC)) $(B)/native/librl.a
	$(CC) $(NATIVE_OPT) -o $@ $^ -lm

# Each tests/c/test_X.c is its own sanitized binary, linked with the harness.
# Support files in tests/c (anything not named test_*.c) and the generator's
# library part are linked into every test binary.
TEST_DEPS   := $(patsubst %.c,$(B)/san/%.o,$(TEST_LIB) $(filter-out tools/gen/main.c,$(GEN_SRC)) \
               $(filter-out src/cli/main.c,$(CLI_SRC)))
$(B)/san/bin/%: $(B)/san/tests/c/%.o $(TEST_DEPS) $(B)/san/librl.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ -lm

$(B)/wasm/rullama.wasm: $(CORE_SRC) $(CLI_SRC) $(wildcard src/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -Isrc -Iinclude $(CORE_SRC) $(CLI_SRC) $(WASM_LDFLAGS) -o $@

$(B)/wasm/rullama-gen.wasm: $(CORE_SRC) $(GEN_SRC) $(wildcard src/*.h src/*/*.h tools/gen/*.h)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_CFLAGS) -Isrc -Iinclude -Itools $(CORE_SRC) $(GEN_SRC) $(WASM_LDFLAGS) -o $@

# libFuzzer targets (clang); `make fuzz` builds them, scripts/fuzz.sh runs them for a bounded time.
# UBSan must not recover, or its reports would not fail the run.
$(B)/fuzz/%: fuzz/%.c $(CORE_SRC) $(wildcard src/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -Iinclude -o $@ $< $(CORE_SRC) -lm
fuzz: $(patsubst fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

# Micro-benchmarks (not part of `all`): build/native/bench_quant [cols] [types] (quant dot
# products); build/native/bench_record MODEL [steps] [prompt] (the C side of decode steps)
bench: $(B)/native/bench_quant $(B)/native/bench_record
$(B)/native/bench_quant: bench/bench_quant.c $(B)/native/librl.a
	$(CC) $(CSTD) $(WARN) $(NATIVE_OPT) -Isrc -o $@ $^ -lm
$(B)/native/bench_record: bench/bench_record.c $(B)/native/src/cli/caps_json.o $(B)/native/librl.a
	$(CC) $(CSTD) $(WARN) $(NATIVE_OPT) -Isrc -Iinclude -o $@ $^ -lm

deps:
	@scripts/install-deps.sh

test: deps
	@scripts/test.sh

demo: deps
	@scripts/demo.sh

clean:
	rm -rf $(B)

-include $(NAT_OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(TEST_DEPS:.o=.d) $(patsubst %.c,$(B)/native/%.d,$(GEN_SRC) $(CLI_SRC))
