/*
 * fuzz_json.c: JSON Lines input (lib/json_in.c through lib/stream_in.c);
 * see fuzz_stream.h for the input format and the properties checked.
 */
#include "fuzz_stream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return run_stream(data, size, SOURCE_JSON);
}
