#!/usr/bin/env python3
"""daemon-ingest-wait: drop files into a running custodyd's zone and time the ingest.

    daemon-ingest-wait.py SOCKET ZONE PID WANT_ENTRIES FILE...

For bench/daemon-bench.sh.  Takes the start time, moves every FILE into ZONE with one `mv -t`
(the files are on the zone's filesystem, so the drop is a rename), then polls until ZONE holds
no regular file and the log holds at least WANT_ENTRIES entries.  It polls the daemon the way
`custodyctl status --json` does ({"op":"status"} on the socket), but over one connection kept
open, every 20 ms: starting custodyctl 50 times a second would take CPU from the daemon it
measures.  At each poll it also reads /proc/PID/status (VmRSS, VmHWM) of the daemon and VmRSS
of its children (the custody-probe processes).

Prints one JSON object: seconds (drop to done), first_entry_s, polls, max_in_flight,
max_probes (children seen at once), rss_max_kib (VmRSS samples), hwm_kib (VmHWM at the end),
probes_rss_max_kib (the largest sum of the children's VmRSS), CPU seconds (user + system) over
the run: cpu_daemon_s (custodyd's threads: hashing and copying on libuv's pool, the loop, the
writer), cpu_probes_s (its reaped children, the custody-probe processes), cpu_s (both),
cpu_loop_s (the main thread) and cpu_threads_s (the other threads, largest first), user and
system time apart (cpu_*_user_s, cpu_*_sys_s), cpu_poller_s (this script and its mv), and
cpu_machine_busy_s (the whole machine, from /proc/stat: what is left is other processes and the
kernel's own threads, e.g. writeback), and status (the last status reply).
Exit 0, 2 on error or after TIMEOUT seconds (env, default 900).
"""
import json
import os
import socket
import subprocess
import sys
import time


def proc_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids


def cpu_s(pid):
    """(the daemon's user+system seconds, its reaped children's), and per thread."""
    tick = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the comm.
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                t = f.read().rsplit(")", 1)[1].split()
            threads[int(tid)] = (int(t[11]) + int(t[12])) / tick
        except OSError:
            pass
    return ((int(fields[11]) + int(fields[12])) / tick,
            (int(fields[13]) + int(fields[14])) / tick, threads,
            [int(x) / tick for x in fields[11:15]])


def machine_busy_s():
    """CPU seconds the whole machine spent not idle (all processes, all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def zone_empty(zone):
    for _, _, files in os.walk(zone):
        if files:
            return False
    return True


class Status:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def get(self):
        self.s.sendall(b'{"op":"status"}\n')
        reply = json.loads(self.f.readline())
        if not reply.get("ok"):
            raise SystemExit(f"daemon-ingest-wait: status failed: {reply}")
        return reply


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    sock, zone, pid, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    files = sys.argv[5:]
    timeout = float(os.environ.get("TIMEOUT", "900"))
    st = Status(sock)
    cpu0 = cpu_s(pid)
    busy0, own0 = machine_busy_s(), os.times()
    t0 = time.monotonic()
    subprocess.run(["mv", "-t", zone, "--"] + files, check=True)
    first = None
    polls = max_flight = max_probes = rss_max = probes_max = 0
    while True:
        status = st.get()
        polls += 1
        now = time.monotonic() - t0
        pipe = status.get("pipeline") or {}
        max_flight = max(max_flight, pipe.get("in_flight", 0))
        kids = children(pid)
        max_probes = max(max_probes, len(kids))
        probes_max = max(probes_max, sum(proc_kib(k, "VmRSS") for k in kids))
        rss_max = max(rss_max, proc_kib(pid, "VmRSS"))
        if first is None and status["size"] >= 1:
            first = now
        if status["size"] >= want and zone_empty(zone):
            break
        if now > timeout:
            print(f"daemon-ingest-wait: not done after {timeout:.0f} s: {json.dumps(status)}",
                  file=sys.stderr)
            sys.exit(2)
        time.sleep(0.02)
    seconds = time.monotonic() - t0
    # Children still running (none expected once every entry is committed) are not counted.
    cpu1 = cpu_s(pid)
    busy1, own1 = machine_busy_s(), os.times()
    own = own1.user + own1.system + own1.children_user + own1.children_system \
        - own0.user - own0.system - own0.children_user - own0.children_system
    ut, st_, cut, cst = (b - a for a, b in zip(cpu0[3], cpu1[3]))
    threads = {t: s - cpu0[2].get(t, 0) for t, s in cpu1[2].items()}
    json.dump({"seconds": seconds, "first_entry_s": first, "polls": polls,
               "max_in_flight": max_flight, "max_probes": max_probes, "rss_max_kib": rss_max,
               "hwm_kib": proc_kib(pid, "VmHWM"), "probes_rss_max_kib": probes_max,
               "cpu_daemon_s": cpu1[0] - cpu0[0], "cpu_probes_s": cpu1[1] - cpu0[1],
               "cpu_s": cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1],
               "cpu_daemon_user_s": ut, "cpu_daemon_sys_s": st_,
               "cpu_probes_user_s": cut, "cpu_probes_sys_s": cst,
               "cpu_poller_s": own, "cpu_machine_busy_s": busy1 - busy0,
               "cpu_loop_s": threads.get(pid, 0),
               "cpu_threads_s": sorted((s for t, s in threads.items() if t != pid), reverse=True),
               "status": status}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
