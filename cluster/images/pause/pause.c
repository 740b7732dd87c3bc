/*
 * The pod sandbox's process: holds the pod's namespaces, reaps the zombies of processes that
 * get re-parented to it (when the pod shares its PID namespace), and exits on SIGINT/SIGTERM.
 * The same behaviour as Kubernetes' build/pause/linux/pause.c, written for this project.
 * Build: gcc -Os -static -o pause pause.c
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "3.10"
#endif

static void shut_down(int signo) {
	/* Async-signal-safe: only write(2) and _exit(2). */
	const char *message = signo == SIGINT ? "pause: SIGINT, exiting\n" : "pause: SIGTERM, exiting\n";
	(void)!write(STDERR_FILENO, message, strlen(message));
	_exit(0);
}

static void reap(int signo) {
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "-v") == 0) {
		printf("pause %s (tracebridge)\n", VERSION);
		return 0;
	}
	if (getpid() != 1) fprintf(stderr, "pause: warning: not PID 1, so zombies of the pod are not mine to reap\n");

	struct sigaction down = {.sa_handler = shut_down};
	sigemptyset(&down.sa_mask);
	if (sigaction(SIGINT, &down, NULL) < 0 || sigaction(SIGTERM, &down, NULL) < 0) {
		perror("pause: sigaction");
		return 1;
	}
	struct sigaction child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
	sigemptyset(&child.sa_mask);
	if (sigaction(SIGCHLD, &child, NULL) < 0) {
		perror("pause: sigaction");
		return 1;
	}

	for (;;) pause();
}
