#ifndef DSB_SIGNALS_H
#define DSB_SIGNALS_H

/// SIGINT and SIGTERM delivered to a pipe: a handler that only writes the signal's number to a pipe (the one
/// async-signal-safe thing it needs), installed synchronously with sigaction, so no signal that arrives after
/// `dsb_signals_install` returns is lost or left to the default action. Both signals are unblocked in the
/// calling thread (a parent may have started the process with them blocked).
///
/// Returns 0, or -1 with errno set when the pipe or a handler cannot be made.
int dsb_signals_install(void);

/// Blocks until a signal arrives; returns its number, or -1 when the pipe is gone.
int dsb_signals_wait(void);

#endif
