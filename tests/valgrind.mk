# make check-valgrind: the pipelines the bats suites run (word count,
# windowed counts, file source to file sink with a checkpoint, console,
# stop by signal, error paths), every stage under valgrind memcheck with
# --leak-check=full --errors-for-leak-kinds=definite (tests/valgrind.sh);
# a memory error or a definite leak in any stage fails.  Uses the plain
# build: valgrind cannot run the sanitizer build.
#
# The Makefile includes this file: include tests/valgrind.mk

check-valgrind: all
	bash tests/valgrind.sh $(BUILD)/bin

.PHONY: check-valgrind
