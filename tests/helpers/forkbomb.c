/*
 * forkbomb: a fork bomb held in by its own RLIMIT_NPROC, for chaos tests.
 *
 *   forkbomb --nproc N
 *
 * Lowers RLIMIT_NPROC (soft and hard) to N, forks one process that starts
 * the bomb, and waits in pause() itself (the leader: TERM ends it). In the
 * bomb every process forks as fast as it can, and so does every child;
 * a process whose fork failed 50 times in a row exits (but the first), so
 * that the bomb churns at its limit and its orphans land on the nearest
 * subreaper.
 * Unlike a shell's, a failed fork never ends the leader. Run it as a user
 * other than root: root is not held by RLIMIT_NPROC.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rlimit rl;
	int fails = 0;
	long n = 0;

	if (argc == 3 && strcmp(argv[1], "--nproc") == 0)
		n = strtol(argv[2], NULL, 10);
	if (n <= 0) {
		fprintf(stderr, "usage: forkbomb --nproc N\n");
		return 2;
	}
	rl.rlim_cur = rl.rlim_max = (rlim_t)n;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1) {
		perror("setrlimit");
		return 1;
	}
	switch (fork()) {
	case -1:
		perror("fork");
		return 1;
	case 0:
		break;
	default:
		for (;;)
			pause();
	}
	/* The bomb's root never gives up: the bomb always grows back. */
	for (int root = 1;;) {
		switch (fork()) {
		case -1:
			if (++fails >= 50 && !root)
				_exit(0);
			break;
		case 0:
			fails = 0;
			root = 0;
			break;
		default:
			fails = 0;
			break;
		}
	}
}
