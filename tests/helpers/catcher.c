/*
 * catcher: a service that records the signals it catches.
 *
 *   catcher --out FILE
 *
 * Appends "PID ready\n" to FILE once its handlers are in place, then
 * "PID sig N\n" for each signal N it catches: HUP, INT, QUIT, USR1, USR2,
 * ALRM, WINCH, URG and the real-time signals. Any other signal has its
 * default effect (TERM ends it). One write(2) per line, O_APPEND, so
 * lines never interleave.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *out;

/* Async-signal-safe: only open, write and close. */
static void
append(const char *what, int n)
{
	char buf[64], num[16];
	size_t len = 0, k = 0;
	long pid = (long)getpid();
	int fd;

	do
		num[k++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && k < sizeof(num));
	while (k > 0)
		buf[len++] = num[--k];
	buf[len++] = ' ';
	for (; *what != '\0' && len < sizeof(buf) - 16; what++)
		buf[len++] = *what;
	if (n >= 0) {
		buf[len++] = ' ';
		do
			num[k++] = (char)('0' + n % 10);
		while ((n /= 10) > 0 && k < sizeof(num));
		while (k > 0)
			buf[len++] = num[--k];
	}
	buf[len++] = '\n';
	fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, buf, len) != (ssize_t)len)
		_exit(100);
	close(fd);
}

static void
on_signal(int sig)
{
	append("sig", sig);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH,
		SIGURG,
	};
	struct sigaction sa;
	size_t i;
	int sig;

	if (argc != 3 || strcmp(argv[1], "--out") != 0) {
		fprintf(stderr, "usage: catcher --out FILE\n");
		return 2;
	}
	out = argv[2];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	for (sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaction(sig, &sa, NULL);
	append("ready", -1);
	for (;;)
		pause();
}
