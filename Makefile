# runnel: one Makefile for the library, the commands, tests, docs and bench.
#
# Adding a command: cmd/NAME.c, man/NAME.1, tests/NAME.bats; the wildcards
# below pick all three up.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    ?= build
CFLAGS   ?= -O2 -g
SANFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS += -Ilib -DRUNNEL_VERSION='"$(VERSION)"'
LDLIBS    = -lcsv -ljansson -lrdkafka -lm -lpthread

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
CMDS     = $(basename $(notdir $(wildcard cmd/*.c)))
BINS     = $(CMDS:%=$(BUILD)/bin/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPERS_SRC = $(wildcard tests/helpers/*.c)
HELPERS  = $(HELPERS_SRC:tests/helpers/%.c=$(BUILD)/tests/%)
MAN1     = $(wildcard man/*.1)
MAN5     = $(wildcard man/*.5)
MAN7     = $(wildcard man/*.7)

all: $(BINS) $(UNITS) $(HELPERS)

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/librunnel.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/bin/%: cmd/%.c $(BUILD)/librunnel.a $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/librunnel.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/librunnel.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(BUILD)/librunnel.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/helpers/%.c $(BUILD)/librunnel.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/librunnel.a $(LDFLAGS) $(LDLIBS)

deps:
	@sh tests/install-deps.sh

# The whole test suite, once normally and once under ASan+UBSan; the last
# line is "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory all BUILD=build-clang CC=clang
	@$(MAKE) --no-print-directory all BUILD=build-san CFLAGS='$(SANFLAGS)' LDFLAGS='-fsanitize=address,undefined'
	@sh tests/run-all.sh build build-san

check-fast: deps all
	@sh tests/run-all.sh build

demo: deps all
	@sh tests/demo.sh $(BUILD)/bin

lint-man:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7

clean:
	rm -rf build build-san build-clang

.PHONY: all deps check check-fast demo lint-man install clean

# Measure runnel against mawk and sort | uniq -c (bench/bench.py); reports,
# never fails on a slow figure.  BENCH_ARGS=--quick for a short run.
bench: deps all
	python3 bench/bench.py --build $(BUILD) $(BENCH_ARGS)

.PHONY: bench

# kill -9 random stages of checkpointed pipelines and compare with an
# uninterrupted run (tests/crash-test.sh); make check runs a short one.
KILLS ?= 200
crash-test: all
	tests/crash-test.sh --kills $(KILLS) $(BUILD)/bin

.PHONY: crash-test

include tests/valgrind.mk
include tests/fuzz/fuzz.mk

# Kafka -> ssplit -> scount -> Kafka on librdkafka's mock cluster.
demo-kafka: deps all
	@sh tests/demo-kafka.sh $(BUILD)

.PHONY: demo-kafka
