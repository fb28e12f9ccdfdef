#ifndef DSB_SPAWN_H
#define DSB_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated) as a child that cannot outlive its parent: the child
/// leads a new process group (so the group can be stopped as one), asks the kernel for SIGKILL when the thread
/// that called this exits (`PR_SET_PDEATHSIG`; a dsbuild killed with -9 or crashing takes the child with it),
/// has SIGINT/SIGTERM unblocked and at their default action, and writes stdout and stderr to `log_fd`
/// (stdin is /dev/null). Call it from a thread that lives as long as the child should (it waits for the child).
///
/// Returns the child's pid, or -1 with errno set when fork failed. A child whose exec fails exits with 127.
pid_t dsb_spawn_tied(const char *path, char *const argv[], char *const envp[], int log_fd);

#endif
