/*
 * fuzz_jsonw.c: libFuzzer target for the JSON writer (common/jsonw.c)
 * that status replies are written with: any bytes (NULs included) as a
 * string, as a key, and the first eight as a real and an integer. The
 * text must always be JSON that jansson reads back; a string that was
 * valid UTF-8 (by jansson's own check) must come back byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonw w;
	json_t *j, *s, *valid;
	json_error_t err;
	double d = 0;
	long long n = 0;
	char *key;

	if (size >= sizeof(d)) {
		memcpy(&d, data, sizeof(d));
		memcpy(&n, data, sizeof(n));
	}
	key = strndup((const char *)data, size);
	if (key == NULL)
		abort();
	jsonw_init(&w, 0);
	jsonw_open(&w, '{');
	jsonw_key(&w, key);
	jsonw_open(&w, '[');
	jsonw_stringn(&w, (const char *)data, size);
	jsonw_real(&w, d);
	jsonw_int(&w, n);
	jsonw_close(&w, ']');
	jsonw_close(&w, '}');
	j = json_loadb(w.buf, w.len, JSON_ALLOW_NUL, &err);
	if (j == NULL || !json_is_object(j) || json_object_size(j) != 1)
		abort();
	s = json_array_get(json_object_iter_value(json_object_iter(j)), 0);
	if (!json_is_string(s) ||
	    !json_is_real(json_array_get(json_object_iter_value(
	    json_object_iter(j)), 1)) ||
	    json_integer_value(json_array_get(json_object_iter_value(
	    json_object_iter(j)), 2)) != n)
		abort();
	valid = json_stringn((const char *)data, size);
	if (valid != NULL && !json_equal(valid, s))
		abort();
	json_decref(valid);
	json_decref(j);
	jsonw_free(&w);
	free(key);
	return 0;
}
