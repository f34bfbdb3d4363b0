# tests/fuzz/fuzz.mk: the libFuzzer targets (tests/fuzz/README).
# The Makefile includes this file (`include tests/fuzz/fuzz.mk`, last).
#
#   make fuzz              build, then run each target FUZZ_SECONDS (60)
#   make -j2 fuzz          the same, two targets at a time
#   make fuzz-smoke        each target FUZZ_SMOKE_SECONDS (10): for CI
#   make fuzz-regress      run every seed and reproducer once, no fuzzing
#   make fuzz-build        only build build-fuzz/fuzz_*
#   make fuzz-clean
#   FUZZ_TARGETS='fuzz_csv' make fuzz    one target only
#
# Everything is built with clang into build-fuzz/: the library objects
# with -fsanitize=fuzzer-no-link,address,undefined (so libFuzzer sees
# their coverage), the targets with -fsanitize=fuzzer,address,undefined.
# A run reads the seeds in tests/fuzz/corpus/TARGET and the reproducers
# in tests/fuzz/regress/TARGET but writes what it discovers only to
# build-fuzz/corpus/TARGET (kept between runs, so longer runs build on
# earlier ones), and a crashing input to build-fuzz/artifacts/TARGET/.
# The log of a run is build-fuzz/logs/TARGET.log; a finding fails the
# target and prints the log's end.  To keep a finding as a regression
# test, copy it to tests/fuzz/regress/TARGET/ under a descriptive name.

FUZZ_CC            ?= clang
FUZZ_BUILD         ?= build-fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_TARGETS       ?= fuzz_frame fuzz_csv fuzz_json fuzz_parse fuzz_checkpoint
# -timeout: an input that runs longer is a hang (a finding).
FUZZ_ARGS          ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_SAN            = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS         = -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_WARN           = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
                      -Wno-unused-parameter
FUZZ_CPPFLAGS       = -Ilib -DRUNNEL_VERSION='"fuzz"'
FUZZ_LDLIBS         = -lcsv -ljansson -lrdkafka -lm -lpthread
FUZZ_LIB_OBJ        = $(patsubst lib/%.c,$(FUZZ_BUILD)/lib/%.o,$(wildcard lib/*.c))
FUZZ_BINS           = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_HDRS           = $(wildcard tests/fuzz/*.h)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_WARN) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/librunnel.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_BUILD)/librunnel.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_WARN) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/librunnel.a $(FUZZ_LDLIBS)

fuzz-build: $(FUZZ_BINS)

# One target's run: fuzz-run-fuzz_csv.  Existing dirs only (libFuzzer
# refuses a missing one); the scratch corpus goes first (it is where
# libFuzzer writes).
fuzz-run-%: $(FUZZ_BUILD)/%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/artifacts/$* \
	    $(FUZZ_BUILD)/logs
	@echo "fuzz: $* for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/logs/$*.log)"
	@$(FUZZ_BUILD)/$* -max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$*/ \
	    $(if $(wildcard tests/fuzz/dict/$*.dict),-dict=tests/fuzz/dict/$*.dict) \
	    $(FUZZ_BUILD)/corpus/$* \
	    $(wildcard tests/fuzz/corpus/$* tests/fuzz/regress/$*) \
	    >$(FUZZ_BUILD)/logs/$*.log 2>&1 || \
	    { tail -n 60 $(FUZZ_BUILD)/logs/$*.log; \
	      echo "fuzz: $* FOUND A PROBLEM: see $(FUZZ_BUILD)/artifacts/$*/"; \
	      exit 1; }
	@grep -h -E '^(stat::number_of_executed_units|Done )' \
	    $(FUZZ_BUILD)/logs/$*.log | sed 's/^/fuzz: $*: /'

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# Each seed and reproducer once (-runs=0 loads the corpus, runs each input
# and stops), under the fuzzer build's sanitizers.
fuzz-regress-%: $(FUZZ_BUILD)/%
	@mkdir -p $(FUZZ_BUILD)/logs
	@$(FUZZ_BUILD)/$* -runs=0 $(wildcard tests/fuzz/corpus/$* \
	    tests/fuzz/regress/$*) >$(FUZZ_BUILD)/logs/$*.regress.log 2>&1 || \
	    { tail -n 60 $(FUZZ_BUILD)/logs/$*.regress.log; exit 1; }
	@echo "fuzz: $*: every seed and reproducer ran"

fuzz-regress: $(FUZZ_TARGETS:%=fuzz-regress-%)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-regress fuzz-clean
.PRECIOUS: $(FUZZ_BUILD)/fuzz_% $(FUZZ_BUILD)/lib/%.o

# The replay programs that `make` builds into every build directory
# (tests/helpers/fuzz_replay_*.c, run by tests/fuzz.bats) include the
# targets' sources; the helper rule only knows their own file, so say
# what else they depend on (no recipe: the Makefile's rule builds them).
FUZZ_REPLAY_DEPS = tests/fuzz/replay_main.c $(FUZZ_HDRS)
$(BUILD)/tests/fuzz_replay_frame: tests/fuzz/fuzz_frame.c $(FUZZ_REPLAY_DEPS)
$(BUILD)/tests/fuzz_replay_csv: tests/fuzz/fuzz_csv.c $(FUZZ_REPLAY_DEPS)
$(BUILD)/tests/fuzz_replay_json: tests/fuzz/fuzz_json.c $(FUZZ_REPLAY_DEPS)
$(BUILD)/tests/fuzz_replay_parse: tests/fuzz/fuzz_parse.c $(FUZZ_REPLAY_DEPS)
$(BUILD)/tests/fuzz_replay_checkpoint: tests/fuzz/fuzz_checkpoint.c $(FUZZ_REPLAY_DEPS)
