"""Runs one command and prints, as one JSON line, its wall time, the peak resident memory of the process itself
(`VmHWM` from /proc, read every 5 ms while it runs: VmHWM only grows) and the peak over it and the children it
waited for (`ru_maxrss` from wait4, what GNU time's %M reports), and its exit status.

    python measure.py CMD [ARG...]
"""

import json
import os
import subprocess
import sys
import time


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    started = time.monotonic()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    own = 0
    while True:
        own = max(own, vm_hwm_kb(child.pid))
        # Not reaped yet: the zombie keeps its status until wait4 below.
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.005)
    wall = time.monotonic() - started
    err = child.stderr.read().decode("utf-8", "replace")
    print(json.dumps({"wall_s": wall, "own_peak_kb": own, "tree_peak_kb": usage.ru_maxrss,
                      "status": os.waitstatus_to_exitcode(status), "stderr_tail": err[-400:]}))


if __name__ == "__main__":
    main()
