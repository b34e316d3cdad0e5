/*
 * fuzz_protocol.c: libFuzzer target for protocol_decode()
 * (common/protocol.c), the first thing tendd does with a request line
 * from its socket: any bytes (NULs included) as one line. Beyond the
 * sanitizers it checks the contract in protocol.h: a success is an
 * object with a string "cmd"; a failure has an error code and a message;
 * the id is always set, and every reference is released exactly once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req = NULL, *id = NULL;
	const char *cmd = NULL, *code = NULL;
	char *msg = NULL;

	if (protocol_decode((const char *)data, size, &req, &id, &cmd, &code,
	    &msg) == 0) {
		if (req == NULL || !json_is_object(req) || cmd == NULL ||
		    id == NULL || msg != NULL)
			abort();
		if (json_object_get(req, "id") != NULL &&
		    !json_equal(id, json_object_get(req, "id")))
			abort();
		json_decref(req);
	} else {
		if (req != NULL || id == NULL || code == NULL ||
		    msg == NULL || *msg == '\0')
			abort();
		free(msg);
	}
	json_decref(id);
	return 0;
}
