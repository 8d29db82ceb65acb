#!/usr/bin/env python3
"""daemon-threads: the CPU time of each thread of a process, for bench/daemon-bench.sh.

    daemon-threads.py PID            prints {"TID": seconds, ...} (user + system), "main": PID
    daemon-threads.py BEFORE AFTER   prints what each thread used between two such snapshots:
                                     {"loop": s, "others": [s, ...] (largest first), "total": s}

The main thread (TID = PID) runs custodyd's loop: the socket, the watch, the server's index.
The others are the log writer and libuv's pool (they are not named, so only their share is
told apart: during a verify load the pool is idle and the largest other is the writer).
"""
import json
import os
import sys


def snapshot(pid):
    tick = os.sysconf("SC_CLK_TCK")
    out = {"main": pid}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def diff(before, after):
    main = str(after["main"])
    used = {t: s - before.get(t, 0) for t, s in after.items() if t != "main"}
    others = sorted((s for t, s in used.items() if t != main), reverse=True)
    return {"loop": used.get(main, 0), "others": others, "total": sum(used.values())}


if len(sys.argv) == 2:
    json.dump(snapshot(int(sys.argv[1])), sys.stdout)
elif len(sys.argv) == 3:
    json.dump(diff(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))), sys.stdout)
else:
    sys.exit(__doc__)
print()
