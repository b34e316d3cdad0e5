/*
 * options.c: linked into every binary of the sanitizer build (make
 * check's build-asan: tendd, tendctl, unit tests, fuzz replays) and into
 * nothing else. It bakes the sanitizers' options into the binary, so a
 * report always lands in a file under TEND_SAN_LOG, whoever starts the
 * process and whatever environment it gets (tests that hand tendd a
 * scrubbed environment included): tests/run fails the check on any such
 * file and prints it, so no report can go by unnoticed in a test's log.
 * ASAN_OPTIONS / UBSAN_OPTIONS in the environment still add to these.
 */
#ifndef TEND_SAN_LOG
#error "build with -DTEND_SAN_LOG='\"DIR\"' (the Makefile's check does)"
#endif

/* The sanitizer runtimes call these hooks, when defined, at start-up. */
const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	/* LeakSanitizer runs inside ASan and writes to the same file. */
	return "log_path=" TEND_SAN_LOG "/asan:detect_leaks=1:"
	    "detect_stack_use_after_return=1:check_initialization_order=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=" TEND_SAN_LOG "/ubsan:print_stacktrace=1:"
	    "halt_on_error=1";
}
