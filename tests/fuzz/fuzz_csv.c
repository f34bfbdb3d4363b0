/*
 * fuzz_csv.c: CSV input (lib/csv_in.c through lib/stream_in.c), and text
 * lines when the option byte says so; see fuzz_stream.h for the input
 * format and the properties checked.
 */
#include "fuzz_stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return run_stream(data, size, SOURCE_CSV);
}
