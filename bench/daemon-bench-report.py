#!/usr/bin/env python3
"""daemon-bench-report: the Markdown section of bench/RESULTS.md from daemon-bench.sh's RES dir.

    daemon-bench-report.py RES

Exit 1 when a target is missed (ingest 1 GB/s on one file system and 90 % of dd's rate across
file systems; verify 20,000 q/s and p99 2 ms; RSS 64 MiB idle and 256 MiB ingesting 8 files).
"""
import datetime
import json
import os
import sys

res = sys.argv[1]


def load(name):
    with open(os.path.join(res, name)) as f:
        return json.load(f)


def kv(name):
    with open(os.path.join(res, name)) as f:
        return dict(w.split("=", 1) for w in f.read().split())


p = load("params.json")
dds = {t: (load(f"dd-{t}.json"), load(f"dd-data-{t}.json")) for t in ("before", "after")}
peer = load("peer.json")
a, a2, b = load("a.json"), load("a2.json"), load("b.json")
v, lt = load("verify.json"), load("load-time.json")
l64, l1 = kv("load.txt"), kv("load1.txt")
r1, r2 = load("r1.json"), load("r2.json")
idle = {k: load(f"{k}-idle.json") for k in ("a", "a2", "b", "r1", "r2")}
after = {k: load(f"{k}-after.json") for k in ("a", "a2", "b", "r1", "r2")}
big = load("idle-biglog.json")
sp_ssl, sp_fp = load("split-openssl.json"), load("split-fingerprint.json")
th = load("load-threads.json")
splits = {op: kv(f"load-{op}.txt") for op in ("status", "entry", "proof")}

total = p["total_bytes"]
gbs = lambda secs: total / secs / 1e9
rate = lambda d: d["bytes"] / d["seconds"] / 1e9
# The peers' rate: both runs (just before and just after ingest (b)) together.
both = lambda i: sum(dds[t][i]["bytes"] for t in dds) / sum(dds[t][i]["seconds"] for t in dds) / 1e9
dd_gbs, ddd_gbs = both(0), both(1)
peer_gbs = gbs(peer["seconds"])
a_gbs, a2_gbs, b_gbs = gbs(a["seconds"]), gbs(a2["seconds"]), gbs(b["seconds"])
qps, p99_ms = float(l64["qps"]), float(l64["p99_us"]) / 1000
idle_max = max(x["hwm_kib"] for x in idle.values()) / 1024
ing_max = max(r1["hwm_kib"], r2["hwm_kib"]) / 1024
ok = lambda c: "yes" if c else "**no**"
mib = lambda kib: f"{kib / 1024:.1f} MiB"
ms = lambda us: f"{float(us) / 1000:.2f} ms"
ncpu = os.cpu_count()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
            if l.startswith("model name")), "?")
mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
checks = {
    "ingest, one file system >= 1 GB/s (from the disk)": a_gbs >= 1.0,
    "ingest, one file system >= 1 GB/s (from the page cache)": a2_gbs >= 1.0,
    "ingest, across file systems >= 0.9 x dd of zeros": b_gbs >= 0.9 * dd_gbs,
    "verify >= 20,000 q/s": qps >= 20000,
    "verify p99 <= 2 ms": p99_ms <= 2.0,
    "RSS idle <= 64 MiB": idle_max <= 64,
    "RSS ingesting 8 <= 256 MiB": ing_max <= 256,
}
access = v["size1"] - v["size0"]
req_bytes = os.path.getsize(os.path.join(res, "requests.jsonl")) // p["clips"]
# CPU seconds per GB of the work each clip needs: one SHA-256 pass (store) + the probe.
cpu_ssl = (sp_ssl["user_s"] + sp_ssl["sys_s"]) / p["base_bytes"] * 1e9
cpu_fp = (sp_fp["user_s"] + sp_fp["sys_s"]) / p["base_bytes"] * 1e9


def cpu_cell(r):
    return (f"{r['cpu_s']:.1f} s ({r['cpu_s'] / r['seconds'] / ncpu * 100:.0f} % of {ncpu} "
            f"cores): custodyd {r['cpu_daemon_s']:.1f} s (user {r['cpu_daemon_user_s']:.1f}, "
            f"system {r['cpu_daemon_sys_s']:.1f}), probes {r['cpu_probes_s']:.1f} s (user "
            f"{r['cpu_probes_user_s']:.1f}, system {r['cpu_probes_sys_s']:.1f})")


def others(r):
    return r["cpu_machine_busy_s"] - r["cpu_s"] - r["cpu_poller_s"]


print(f"""## The daemon: ingest end to end, verify under load, RSS

- Date: {datetime.date.today()}. Machine: {ncpu} vCPUs ({cpu}), {mem:.0f} GiB RAM, Linux {os.uname().release}, Debian 12.
- Command (as root): `meson test -C BUILD --benchmark bench.daemon`, or `CUSTODYD=BUILD/daemon/custodyd
  CUSTODYCTL=… CUSTODY_LOG=… CUSTODY_VERIFY=… bench/daemon-bench.sh DIR` (source
  `bench/daemon-bench.sh` and its `daemon-*` helpers). Daemon: `{p["custodyd"]}`.
- Clips: {p["clips"]} variants of one {p["clip_bytes"]:,}-byte 1080p30 H.264 + AAC MP4 (`ffmpeg -c copy
  -metadata comment=N`: the same packets, a distinct SHA-256 each), {total:,} bytes in all.
  GB/s = 10^9 bytes per second of wall-clock time. Load average at the start {p["loadavg_start"]}, at
  the end {p["loadavg_end"]} (other engineers' builds and tests may share the machine).
- Ingest: a fresh daemon per run, `workers = 2` (the default), `settle = 0`; page cache dropped
  (`sync; echo 3 > /proc/sys/vm/drop_caches`) before each run and each peer; timed from one
  `mv` of all clips into the zone (a rename) until the zone is empty and the log holds every
  entry (the socket's `status`, polled every 20 ms over one connection). The other file system
  is ext4 in a sparse 32 GiB image file on the same disk, on a loop device (direct I/O
  {dict(zip("01", ("off", "on"))).get(p["loop_dio"], p["loop_dio"])}: the image's pages are not cached twice).
""")
print("| run | time | throughput | target | ratio to peers (same run) |")
print("|---|---|---|---|---|")
print(f"| (a) store on the zone's file system (move path), clips read from the disk | {a['seconds']:.2f} s | {a_gbs:.2f} GB/s "
      f"| ≥ 1 GB/s: {ok(checks['ingest, one file system >= 1 GB/s (from the disk)'])} "
      f"| {a_gbs / peer_gbs:.2f} × cp+sha256sum+sync |")
print(f"| (a') the same, clips in the page cache | {a2['seconds']:.2f} s | {a2_gbs:.2f} GB/s "
      f"| ≥ 1 GB/s: {ok(checks['ingest, one file system >= 1 GB/s (from the page cache)'])} "
      f"| {a2_gbs / peer_gbs:.2f} × cp+sha256sum+sync |")
print(f"| (b) store on another file system (copy path) | {b['seconds']:.2f} s | {b_gbs:.2f} GB/s "
      f"| ≥ 0.9 × dd: {ok(checks['ingest, across file systems >= 0.9 x dd of zeros'])} against "
      f"zeros; {ok(b_gbs >= 0.9 * ddd_gbs)} against the clip's bytes "
      f"| {b_gbs / dd_gbs:.2f} × dd of zeros, {b_gbs / ddd_gbs:.2f} × dd of the clip's bytes (both runs together), "
      f"{b_gbs / peer_gbs:.2f} × cp+sha256sum+sync |")
for i, what in ((0, f"`dd if=/dev/zero of=IMAGE/dd.bin bs=1M count={dds['before'][0]['bytes'] >> 20} conv=fsync`"),
                (1, f"the clip {p['clips']} times from the page cache `\\| dd of=IMAGE/dd.bin bs=1M iflag=fullblock conv=fsync`")):
    print(f"| peer: {what}, just before and just after (b) "
          f"| {dds['before'][i]['seconds']:.2f} s, {dds['after'][i]['seconds']:.2f} s "
          f"| {rate(dds['before'][i]):.2f} and {rate(dds['after'][i]):.2f} GB/s "
          f"(together {both(i):.2f}) | | |")
print(f"| peer: `cp` into the ext4 image, `sha256sum` of the copies, `sync` | {peer['seconds']:.2f} s "
      f"| {peer_gbs:.2f} GB/s | | cp {peer['cp']:.2f} s, sha256sum {peer['sha256sum']:.2f} s, "
      f"sync {peer['sync']:.2f} s |")
print(f"""
CPU used during the runs (user + system; the probes are custodyd's children):
- (a): {cpu_cell(a)}; custodyd's loop thread {a['cpu_loop_s']:.1f} s. Other processes and kernel threads: {others(a):.1f} s.
- (a'): {cpu_cell(a2)}; custodyd's loop thread {a2['cpu_loop_s']:.1f} s. Other processes and kernel threads: {others(a2):.1f} s.
- (b): {cpu_cell(b)}; custodyd's loop thread {b['cpu_loop_s']:.1f} s. Other processes and kernel threads: {others(b):.1f} s.
- The work per GB, from the page cache, same run: `openssl dgst -sha256` (one SHA-256 pass, what
  the store's hash costs) {cpu_ssl:.2f} CPU-s/GB; `custody-verify fingerprint --json` (what each probe
  does: the file's SHA-256 again, every packet's, the demux) {cpu_fp:.2f} CPU-s/GB ({sp_fp['wall_s']:.2f} s wall per clip).
  Together {cpu_ssl + cpu_fp:.2f} CPU-s/GB: on {ncpu} cores at best {ncpu / (cpu_ssl + cpu_fp):.2f} GB/s before any I/O.

First entry committed {a['first_entry_s']:.2f} s (a), {a2['first_entry_s']:.2f} s (a') and {b['first_entry_s']:.2f} s (b) after the drop.
The daemon's {p["clips"]} SHA-256s equal sha256sum's; every entry is `ingest` (none damaged).

verify: {p["clients"]} connections, closed-loop, {p["verify_s"]} s after 2 s of warm-up, on the daemon of
run (b) (a log of {p["clips"]} originals); each request is a clip's fingerprint from `custody-verify
fingerprint --json` (sha256, size, name, duration, container, tags, streams: about {req_bytes}
bytes; no key packets), and every answer is `exact` with the entry and an inclusion proof. The
client (`bench/daemon-verify-load.c`, one thread, epoll) and the daemon share the {ncpu} vCPUs.

| clients | answered | p50 | p90 | p99 | p99.9 | max | errors |
|---|---|---|---|---|---|---|---|""")
for n, l, extra in ((p["clients"], l64, True), (1, l1, False)):
    print(f"| {n} | {float(l['qps']):,.0f} q/s"
          + (f" (target ≥ 20,000: {ok(checks['verify >= 20,000 q/s'])})" if extra else "")
          + f" | {ms(l['p50_us'])} | {ms(l['p90_us'])} | {ms(l['p99_us'])}"
          + (f" (target ≤ 2 ms: {ok(checks['verify p99 <= 2 ms'])})" if extra else "")
          + f" | {ms(l['p999_us'])} | {ms(l['max_us'])} | {int(l['errors']) + int(l['unexpected'])} |")
busy = v["machine_busy_s"] / v["clk_tck"]
print(f"""
During the {p["clients"]}-client run ({lt['wall_s']:.1f} s of wall-clock time, warm-up included) the daemon used
{th['total']:.1f} s of CPU (its loop thread {th['loop']:.1f} s; the busiest other thread, the log writer,
{(th['others'] or [0])[0]:.1f} s), the client {lt['user_s'] + lt['sys_s']:.1f} s, the whole machine {busy:.1f} s. The log grew by {access:,}
`access` entries, one per verify answered in both runs ({int(l64['replies_total']) + int(l1['replies_total']):,} replies read, plus
those in flight when the clients stopped). Daemon RSS after: {mib(v['rss_kib'])} (RssAnon
{mib(v['anon_kib'])}, RssFile {mib(v['file_kib'])}; VmHWM {mib(v['hwm_kib'])}).

Splits: the same {p["clients"]} connections, 3 s each after 1 s of warm-up, with cheaper requests:

| request | answered | p50 | p99 |
|---|---|---|---|""")
for op, label in (("status", "`status` (no access entry)"),
                  ("entry", "`entry N` (one entry read; an access entry)"),
                  ("proof", "`proof` by SHA-256 (a lookup, an inclusion proof; an access entry)")):
    l = splits[op]
    print(f"| {label} | {float(l['qps']):,.0f} q/s | {ms(l['p50_us'])} | {ms(l['p99_us'])} |")
print(f"| `verify` (above) | {qps:,.0f} q/s | {ms(l64['p50_us'])} | {ms(l64['p99_us'])} |")
print(f"""
| daemon RSS (`/proc/PID/status`) | VmRSS | VmHWM | target |
|---|---|---|---|
| idle, 2 s after start on an empty log (runs a, a', b, r1, r2) | {", ".join(mib(idle[k]['rss_kib']) for k in idle)} | max {idle_max:.1f} MiB | ≤ 64 MiB: {ok(checks['RSS idle <= 64 MiB'])} |
| after ingesting {p["clips"]} (a, a', b) | {", ".join(mib(after[k]['rss_kib']) for k in ("a", "a2", "b"))} | {", ".join(mib(after[k]['hwm_kib']) for k in ("a", "a2", "b"))} | |
| idle, restarted on run (b)'s log after the verify runs ({big['size']:,} entries, {big['db_bytes'] / 2**20:.0f} MiB of LMDB), index caught up | {mib(big['rss_kib'])} (RssAnon {mib(big['anon_kib'])}, RssFile {mib(big['file_kib'])}) | {mib(big['hwm_kib'])} | |
| r1: {p["rss_files"]} clips dropped together, `workers = 8` | peak sampled {mib(r1['rss_max_kib'])} | {mib(r1['hwm_kib'])} | ≤ 256 MiB: {ok(r1['hwm_kib'] <= 256 * 1024)} |
| r2: the same with `UV_THREADPOOL_SIZE=12` | peak sampled {mib(r2['rss_max_kib'])} | {mib(r2['hwm_kib'])} | ≤ 256 MiB: {ok(r2['hwm_kib'] <= 256 * 1024)} |

r1 and r2: zone, store and state on the ext4 image (the move path). Probes running at once
(children of the daemon in 20 ms samples): r1 {r1['max_probes']}, r2 {r2['max_probes']}; their summed VmRSS at most
{mib(r1['probes_rss_max_kib'])} (r1) and {mib(r2['probes_rss_max_kib'])} (r2), not counted in the daemon's. The {p["rss_files"]} clips took
r1 {r1['seconds']:.2f} s, r2 {r2['seconds']:.2f} s.
""")
print("Targets: " + "; ".join(f"{k}: {ok(c)}" for k, c in checks.items()) + ".")
sys.exit(0 if all(checks.values()) else 1)
