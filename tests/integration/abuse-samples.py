#!/usr/bin/env python3
"""abuse-samples.py SAMPLES: tests/integration/abuse.sh's verdict on what its monitor sampled
(one line a sample: phase, custodyctl's exit status and time, the daemon's own answer time,
VmRSS, RssAnon, descriptors, custodyctl's error): ok: and FAIL: lines, exit 1 if one failed."""
import os, statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for phase, rc, ms, raw, rss, anon, fds, err in rows:
    by.setdefault(phase, []).append(dict(rc=int(rc), ms=float(ms), raw=float(raw), rss=int(rss),
                                         anon=int(anon), fds=int(fds), err=err))
base = by.get("baseline", [])
after = by.get("after", [])
abuse = [r for p, rs in by.items() if p not in ("baseline", "after") for r in rs]
fails = 0
def line(ok, msg):
    global fails
    if not ok:
        fails += 1
    print(("ok: " if ok else "FAIL: ") + msg)
if not base or not after or not abuse:
    line(False, "too few samples: %s" % {p: len(r) for p, r in by.items()})
    sys.exit(1)
b_anon = statistics.median(r["anon"] for r in base)
b_rss = statistics.median(r["rss"] for r in base)
b_fds = min(r["fds"] for r in base)
for p, rs in by.items():
    ctl = sorted(r["ms"] for r in rs)
    raw = sorted(r["raw"] for r in rs)
    print("  %-9s %3d samples: custodyctl status median %5.1f ms, max %5.1f ms; the daemon's "
          "answer median %4.1f ms, max %5.1f ms; RssAnon max %d KiB, VmRSS max %d KiB, fds max %d"
          % (p, len(rs), statistics.median(ctl), ctl[-1], statistics.median(raw), raw[-1],
             max(r["anon"] for r in rs), max(r["rss"] for r in rs), max(r["fds"] for r in rs)))
every = [(p, r) for p, rs in by.items() for r in rs]
failed = [(p, r) for p, r in every if r["rc"] != 0 or r["raw"] < 0]
line(not failed, "every status answered (%d custodyctl calls, as many on a raw socket)%s" % (
    len(rows), "" if not failed else ": %d failed, e.g. %s in %s" % (
        len(failed), failed[0][1]["err"], failed[0][0])))
slowest = max((r["raw"], p) for p, r in every)
line(slowest[0] <= 2000, "the daemon answers each status, within 2 s (slowest %.1f ms, in %s)"
     % slowest)
# custodyctl's own start (it links libavformat: about 140 shared libraries) is most of its time;
# on a machine busy with other work (this test's own 500 clients, a CI machine's neighbours) a
# start alone can take a second, which says nothing of the daemon: reported, not asserted.
ms = sorted(r["ms"] for _, r in every)
slowest = max((r["ms"], p) for p, r in every)
print("  custodyctl status, its own start included: median %.1f ms, slowest %.1f ms (in %s; "
      "load average %.1f on %d CPUs)"
      % ((ms[len(ms) // 2],) + slowest + (os.getloadavg()[0], os.cpu_count())))
peak_fds = max(r["fds"] for r in abuse)
line(peak_fds <= b_fds + 256 + 16, "descriptors during the abuse: at most %d (baseline %d)"
     % (peak_fds, b_fds))
peak_anon = max(r["anon"] for r in abuse)
line(peak_anon <= b_anon + 64 * 1024,
     "RssAnon during the abuse: at most %d KiB (baseline %d KiB, +%d KiB; VmRSS baseline %d KiB)"
     % (peak_anon, b_anon, peak_anon - b_anon, b_rss))
a_fds = after[-1]["fds"]
line(a_fds <= b_fds + 1, "descriptors afterwards: %d (baseline %d)" % (a_fds, b_fds))
a_anon = after[-1]["anon"]
line(a_anon <= b_anon + 16 * 1024, "RssAnon afterwards: %d KiB (baseline %d KiB, +%d KiB)"
     % (a_anon, b_anon, a_anon - b_anon))
sys.exit(1 if fails else 0)
