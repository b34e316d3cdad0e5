/*
 * test_cgroup.c: directory names, mountinfo, /proc/PID/cgroup and
 * /proc/PID/stat parsing, SOCKET.state's session slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tendd.h"

static void
check_encode(const char *name, const char *want)
{
	char *s = cgroup_encode_name(name);

	assert_string_equal(s, want);
	free(s);
}

static void
test_encode(void **state)
{
	char long_name[400], *s, *t;

	check_encode("web:web_0", "web%3Aweb_0");
	check_encode("a-b:c", "a-b%3Ac");
	/* never ".", "..", hidden, or an interface file's name */
	check_encode("..", "%2E%2E");
	check_encode(".:.", "%2E%3A%2E");
	check_encode("cgroup.procs", "cgroup%2Eprocs");
	check_encode("a/../b", "a%2F%2E%2E%2Fb");
	check_encode("100%", "100%25");
	check_encode("caf\xc3\xa9 x", "caf%C3%A9%20x");
	/* too long for a directory: start, '~', a hash of the whole */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	s = cgroup_encode_name(long_name);
	assert_int_equal(strlen(s), 160 + 1 + 16);
	assert_int_equal(s[160], '~');
	long_name[300] = 'y';
	t = cgroup_encode_name(long_name);
	assert_string_not_equal(s, t);
	free(s);
	free(t);
}

static void
test_hash(void **state)
{
	/* FNV-1a's published values */
	assert_true(cgroup_hash("") == 0xcbf29ce484222325ULL);
	assert_true(cgroup_hash("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(cgroup_hash("/run/tend.sock") !=
	    cgroup_hash("/run/tend2.sock"));
}

static void
test_mountinfo(void **state)
{
	char *root = NULL, *mnt = NULL;

	assert_int_equal(cgroup_parse_mountinfo("41 31 0:38 / "
	    "/sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
	    &root, &mnt), 1);
	assert_string_equal(root, "/");
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	free(root);
	free(mnt);
	/* optional fields, an escaped blank, a root below the top */
	assert_int_equal(cgroup_parse_mountinfo("30 25 0:26 /a\\040b "
	    "/sys/fs/cg\\040x rw,nosuid shared:4 master:1 - cgroup2 cgroup2 "
	    "rw,nsdelegate", &root, &mnt), 1);
	assert_string_equal(root, "/a b");
	assert_string_equal(mnt, "/sys/fs/cg x");
	free(root);
	free(mnt);
	/* v1, a tmpfs, a file system named like one, garbage */
	assert_int_equal(cgroup_parse_mountinfo("32 31 0:29 / "
	    "/sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
	    &root, &mnt), 0);
	assert_int_equal(cgroup_parse_mountinfo("31 23 0:28 / /sys/fs/cgroup "
	    "rw - tmpfs tmpfs rw", &root, &mnt), 0);
	assert_int_equal(cgroup_parse_mountinfo("31 23 0:28 / /x rw - "
	    "cgroup2x y rw", &root, &mnt), 0);
	assert_int_equal(cgroup_parse_mountinfo("", &root, &mnt), 0);
	assert_int_equal(cgroup_parse_mountinfo("1 2 3 / /x - cgroup2",
	    &root, &mnt), 0);
}

static void
test_self(void **state)
{
	char *s;

	s = cgroup_parse_self("9:name=systemd:/\n4:memory:/x/y\n0::/\n");
	assert_string_equal(s, "/");
	free(s);
	s = cgroup_parse_self("0::/system.slice/tend.service\n");
	assert_string_equal(s, "/system.slice/tend.service");
	free(s);
	s = cgroup_parse_self("0::/no-newline");
	assert_string_equal(s, "/no-newline");
	free(s);
	assert_null(cgroup_parse_self("1:cpu:/\n2:memory:/\n"));
	assert_null(cgroup_parse_self(""));
}

static void
check_dir(const char *mnt, const char *root, const char *path,
    const char *want)
{
	char *s = cgroup_dir_of(mnt, root, path);

	if (want == NULL)
		assert_null(s);
	else
		assert_string_equal(s, want);
	free(s);
}

static void
test_dir_of(void **state)
{
	check_dir("/sys/fs/cgroup", "/", "/", "/sys/fs/cgroup");
	check_dir("/sys/fs/cgroup", "/", "/a/b", "/sys/fs/cgroup/a/b");
	/* a mount showing only part of the hierarchy */
	check_dir("/mnt", "/a", "/a/b", "/mnt/b");
	check_dir("/mnt", "/a", "/a", "/mnt");
	check_dir("/mnt", "/a", "/ab", NULL);
	check_dir("/mnt", "/a", "/b", NULL);
	check_dir("/", "/", "/x", "/x");
}

static void
check_decode(const char *enc, const char *want)
{
	char *s = cgroup_decode_name(enc);

	assert_string_equal(s, want);
	free(s);
}

static void
test_decode(void **state)
{
	const char *names[] = { "web:web_0", "..", "a/../b", "100%",
	    "caf\xc3\xa9 x", "x:%41" };
	char *s, long_name[400];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		s = cgroup_encode_name(names[i]);
		check_decode(s, names[i]);
		free(s);
	}
	/* not an encoding: left as it is, never a NUL */
	check_decode("%4", "%4");
	check_decode("%zz%", "%zz%");
	check_decode("a%00b", "a%00b");
	check_decode("a%0Ab%1Bc%7F", "a%0Ab%1Bc%7F");
	/* a hashed long name stays hashed */
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	s = cgroup_encode_name(long_name);
	check_decode(s, s);
	free(s);
}

static void
test_stat(void **state)
{
	struct pidstat ps;

	/* Linux 6: 52 fields; starttime is the 22nd */
	assert_int_equal(procfs_parse_stat("1234 (nginx) S 1 1230 1230 0 -1 "
	    "4194624 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000000 200 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 "
	    "0 0 0 0 0 0 0 0", &ps), 0);
	assert_int_equal(ps.state, 'S');
	assert_int_equal(ps.ppid, 1);
	assert_int_equal(ps.pgrp, 1230);
	assert_int_equal(ps.sid, 1230);
	assert_true(ps.start == 987654ULL);
	/* a name with ") " and blanks in it, a zombie */
	assert_int_equal(procfs_parse_stat("77 (a) b (c)) Z 1 77 77 0 -1 0 0 "
	    "0 0 0 0 0 0 0 20 0 1 0 42 0 0", &ps), 0);
	assert_int_equal(ps.state, 'Z');
	assert_int_equal(ps.sid, 77);
	assert_true(ps.start == 42ULL);
	/* cut short, or no name */
	assert_int_equal(procfs_parse_stat("5 (x) S 1 5 5 0", &ps), -1);
	assert_int_equal(procfs_parse_stat("5 x S 1 5 5", &ps), -1);
	assert_int_equal(procfs_parse_stat("", &ps), -1);
}

/* metrics.c's reading: utime + stime (14, 15) and rss (24). */
static void
test_usage(void **state)
{
	unsigned long long ticks, rss;

	assert_int_equal(procfs_parse_usage("1234 (nginx) S 1 1230 1230 0 -1 "
	    "4194624 100 0 0 0 5 3 0 0 20 0 1 0 987654 1000000 200 "
	    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 "
	    "0 0 0 0 0 0 0 0", &ticks, &rss), 0);
	assert_true(ticks == 8ULL);
	assert_true(rss == 200ULL);
	/* ") " in the name; a negative rss reads as none */
	assert_int_equal(procfs_parse_usage("77 (a) b (c)) Z 1 77 77 0 -1 0 0 "
	    "0 0 0 70 7 0 0 20 0 1 0 42 0 -1", &ticks, &rss), 0);
	assert_true(ticks == 77ULL);
	assert_true(rss == 0ULL);
	/* cut short before rss, or no name */
	assert_int_equal(procfs_parse_usage("5 (x) S 1 5 5 0 -1 0 0 0 0 0 1 1 "
	    "0 0 20 0 1 0 42 0", &ticks, &rss), -1);
	assert_int_equal(procfs_parse_usage("5 x S", &ticks, &rss), -1);
}

static void
test_session_slot(void **state)
{
	char buf[CGROUP_STATE_SLOT + 1], name[200], *got;
	unsigned long long start;
	pid_t pid;
	size_t i;

	buf[CGROUP_STATE_SLOT] = '\0';
	cgroup_format_session(buf, 4242, 123456789ULL, "web");
	assert_int_equal(strlen(buf), CGROUP_STATE_SLOT);
	assert_int_equal(buf[CGROUP_STATE_SLOT - 1], '\n');
	assert_memory_equal(buf, "session 4242 123456789 web ", 27);
	assert_int_equal(cgroup_parse_session(buf, &pid, &start, &got), 1);
	assert_int_equal(pid, 4242);
	assert_true(start == 123456789ULL);
	assert_string_equal(got, "web");
	free(got);

	/* an empty slot is blanks only */
	cgroup_format_session(buf, 0, 0, "web");
	for (i = 0; i < CGROUP_STATE_SLOT - 1; i++)
		assert_int_equal(buf[i], ' ');
	assert_int_equal(cgroup_parse_session(buf, &pid, &start, &got), 0);

	/* a name too long is cut, never inside a character */
	for (i = 0; i + 2 < sizeof(name); i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	name[i] = '\0';
	cgroup_format_session(buf, 99999, 1ULL << 40, name);
	assert_int_equal(strlen(buf), CGROUP_STATE_SLOT);
	assert_int_equal(cgroup_parse_session(buf, &pid, &start, &got), 1);
	assert_true(strlen(got) > 60 && strlen(got) % 2 == 0);
	assert_int_equal(strncmp(got, name, strlen(got)), 0);
	free(got);

	/* other lines, and pids that are never a session of ours */
	assert_int_equal(cgroup_parse_session("cgroup /x/tend-1", &pid,
	    &start, &got), 0);
	assert_int_equal(cgroup_parse_session("session 1 5 init", &pid,
	    &start, &got), 0);
	assert_int_equal(cgroup_parse_session("session -7 5 x", &pid,
	    &start, &got), 0);
	assert_int_equal(cgroup_parse_session("session 12", &pid, &start,
	    &got), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_dir_of),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_session_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
