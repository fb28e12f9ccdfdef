#define _GNU_SOURCE
#include "dsb_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int dsb_signal_pipe[2] = {-1, -1};

static void dsb_on_signal(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    // Non-blocking: should the reader stall and the pipe fill, further signals are dropped, never waited for.
    ssize_t written = write(dsb_signal_pipe[1], &byte, 1);
    (void)written;
    errno = saved;
}

int dsb_signals_install(void) {
    if (dsb_signal_pipe[0] >= 0) return 0;
    if (pipe2(dsb_signal_pipe, O_CLOEXEC) != 0) return -1;
    int flags = fcntl(dsb_signal_pipe[1], F_GETFL);
    if (flags < 0 || fcntl(dsb_signal_pipe[1], F_SETFL, flags | O_NONBLOCK) != 0) return -1;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = dsb_on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return -1;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

int dsb_signals_wait(void) {
    unsigned char byte;
    for (;;) {
        ssize_t n = read(dsb_signal_pipe[0], &byte, 1);
        if (n == 1) return byte;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}
