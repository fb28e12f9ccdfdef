#define _GNU_SOURCE
#include "dsb_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

pid_t dsb_spawn_tied(const char *path, char *const argv[], char *const envp[], int log_fd) {
    pid_t parent = getpid();
    pid_t child = fork();
    if (child != 0) return child;  // the parent (or -1)

    // In the child, between fork and exec: async-signal-safe calls only.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent died before the request took effect

    struct sigaction action;
    action.sa_handler = SIG_DFL;
    action.sa_flags = 0;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGPIPE, &action, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) { dup2(null_fd, 0); if (null_fd > 2) close(null_fd); }
    if (log_fd >= 0) { dup2(log_fd, 1); dup2(log_fd, 2); }
    // Descriptors dsbuild holds open (the manifest, sockets) stay with dsbuild: close the rest.
    for (int fd = 3; fd < 1024; fd++) close(fd);

    execve(path, argv, envp);
    _exit(127);
}
