#!/bin/bash
# Socket abuse (docs/protocol.md, limits): a real custodyd, users and groups the test makes, and
# clients that misbehave on purpose:
#   flood     500 connections at once from a user with no role: at most max_clients_per_user
#             (32, the default) are taken, each of the rest is told "busy" and closed at once;
#             the ones taken are cut off with "timeout" after idle_timeout (2 s here); then 500
#             at once from ten such users: more than one user's 32 but at most max_clients (256)
#             minus the operators' reserve (a sixteenth) are taken, the rest told "busy";
#   slow      20 clients sending one byte a second: each is cut off with "timeout" after
#             idle_timeout, whatever it trickles, and nobody else waits for them;
#   garbage   a 100 MiB line (too_large at max_request_bytes, connection closed, the daemon
#             reads little more than 1 MiB of it), invalid UTF-8, overlong and surrogate
#             encodings, JSON nested 10,000 deep, a NUL, not JSON: each gets bad_request and the
#             connection still answers the next request; junk keys in a `log` request (a real,
#             1 MiB of padding) do not keep the read out of the log;
#   no role   a user in no role group: forbidden, closed, and recorded as an access entry, also
#             when what it names is 900 KB long (its target is then null);
#   mid-reply clients that ask for a 4 MiB `log` reply and close after a few bytes or none;
#   no read   a client that never reads its replies is closed at SRV_MAX_PENDING_OUT.
# Meanwhile a monitor (root, an operator) runs `custodyctl status` back to back, then the same
# request on a socket of its own, and samples the daemon's /proc/PID/status (VmRSS, RssAnon)
# and /proc/PID/fd.  Asserted:
#   - every status answers, the daemon's answer (connect, request, reply) within 2 s each time:
#     a loop held by the abuse would stall for longer or time out.  How fast it answers is a
#     figure, not a test (a loaded CI machine is slow for reasons that say nothing of the
#     daemon): the medians and the slowest are printed, custodyctl's own start included
#     (custodyctl links libavformat, about 140 shared libraries);
#   - descriptors: at most baseline + max_clients + 16 during the abuse (one per connection
#     the daemon holds; one told "busy" is closed at once; nothing else grows), and back to the
#     baseline (+1: a status connection being closed) once the clients are gone;
#   - RssAnon: at most baseline + 64 MiB during the abuse (256 clients' 64 KiB read buffers are
#     16 MiB, a refused line's buffer 1 MiB + 64 KiB, a non-reader's queue 8 MiB, a 4 MiB `log`
#     reply built three times over 12 MiB: about 37 MiB, plus per-thread malloc arenas), which
#     also shows the 100 MiB line was never buffered; and at most baseline + 16 MiB afterwards
#     (glibc keeps some freed memory in its arenas; a leak of a buffer per client would show);
#   - the daemon never dies, and stops with exit 0 on SIGTERM.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v python3 >/dev/null; then
	echo "SKIP: needs root, setpriv and python3 (users made by the test)"
	exit 77
fi
tmp=$(mktemp -d)
chmod 0755 "$tmp"
daemon=
users=()
groups=(ct-ab-none ct-ab-review)
cleanup() {
	[ -z "$daemon" ] || kill -9 "$daemon" 2>/dev/null || true
	[ -z "$daemon" ] || wait "$daemon" 2>/dev/null || true
	for u in "${users[@]}"; do userdel "$u" 2>/dev/null || true; done
	for g in "${groups[@]}"; do groupdel "$g" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# Other tests may be adding users at the same moment: /etc/passwd is then locked for a while.
retry() { for _ in 1 2 3 4 5 6 7 8 9 10; do "$@" && return 0; sleep 0.5; done; "$@"; }
for g in "${groups[@]}"; do retry groupadd -f "$g"; done
mkuser() { # mkuser NAME [GROUPS]
	userdel "$1" 2>/dev/null || true
	users+=("$1")
	retry useradd -M -N -g ct-ab-none ${2:+-G "$2"} "$1"
}
mkuser ct-ab-nobody
mkuser ct-ab-rev ct-ab-review
mkuser ct-ab-slow ct-ab-review
for i in 0 1 2 3 4 5 6 7 8 9; do mkuser ct-ab-f$i; done
as() { local u=$1; shift; setpriv --reuid "$u" --regid ct-ab-none --init-groups "$@"; }

mkdir -p "$tmp/dock" "$tmp/state"
"$CUSTODY_LOG" keygen test.custody/log --out "$tmp/log.key" >"$tmp/log.pub"
idle_s=2
cat >"$tmp/custody.conf" <<EOF
[log]
origin = test.custody/log
key = $tmp/log.key
verifier_key = $tmp/log.pub
state = $tmp/state
checkpoint_interval = 1s

[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
settle = 1s

[rules]
device_clock = UTC

[socket]
path = $tmp/custody.sock
reviewers = ct-ab-review
idle_timeout = ${idle_s}s
EOF

"$CUSTODYD" --config "$tmp/custody.conf" 2>>"$tmp/daemon.log" &
daemon=$!
C() { "$CUSTODYCTL" --socket "$tmp/custody.sock" --key "$tmp/log.pub" "$@"; }
for _ in $(seq 1 100); do
	[ -S "$tmp/custody.sock" ] && C status >/dev/null 2>&1 && break
	sleep 0.1
done
C status >/dev/null || { bad "custodyd did not come up: $(tail -5 "$tmp/daemon.log")"; exit 1; }
chmod 0777 "$tmp/custody.sock"
alive() { kill -0 "$daemon" 2>/dev/null; }

# The clients, one program with a subcommand per abuse.  Each prints ok:/FAIL: lines.
cat >"$tmp/abuse.py" <<'PY'
import json, os, selectors, socket, subprocess, sys, threading, time

SOCK = os.environ["SOCK"]
IDLE = float(os.environ["IDLE_S"])
fails = 0


def ok(msg):
    print("ok: " + msg, flush=True)


def bad(msg):
    global fails
    fails += 1
    print("FAIL: " + msg, flush=True)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(SOCK)  # blocking: waits while the listen backlog is full
    return s


def error_code(line):
    """The code of an error object (docs/protocol.md), None if the line is not one."""
    try:
        o = json.loads(line)
    except ValueError:
        return None
    e = o.get("error") if isinstance(o, dict) else None
    if o.get("ok") is not False or not isinstance(e, dict):
        return None
    if not all(k in e for k in ("code", "errno", "name", "message")):
        return None
    return e["code"]


def read_all(s, timeout, lines=None):
    """Read until EOF, a reset, @lines complete lines or @timeout: (bytes, how).  The socket
    keeps its mode (another thread may be sending on it): recv() follows readiness."""
    buf, end = b"", time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0 or not sel.select(left):
                return buf, "open"
            try:
                d = s.recv(1 << 16)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                return buf, "reset"
            if not d:
                return buf, "eof"
            buf += d
            if lines is not None and buf.count(b"\n") >= lines:
                return buf, "lines"
    finally:
        sel.close()


def ask(s, line, timeout=5):
    """Send one request line, return (first reply line or None, how the read ended)."""
    s.sendall(line + b"\n")
    buf, how = read_all(s, timeout, lines=1)
    return (buf.split(b"\n", 1)[0] if b"\n" in buf else None), how


def flood(n, limit, least):
    """n connections at once; classify what each gets: between least and limit taken."""
    t0 = time.monotonic()
    socks = []
    for _ in range(n):
        socks.append(connect())
    t_conn = time.monotonic() - t0
    data = [b""] * n
    how = [None] * n
    when = [None] * n
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    end = t0 + IDLE + 6
    while time.monotonic() < end and any(h is None for h in how):
        for key, _ in sel.select(0.2):
            i = key.data
            try:
                d = socks[i].recv(1 << 16)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                d = None
            if not d:
                how[i] = "eof" if d == b"" else "reset"
                when[i] = time.monotonic() - t0
                sel.unregister(socks[i])
            else:
                data[i] += d
    busy = silent = held = 0
    odd = []
    for i in range(n):
        codes = [error_code(l) for l in data[i].split(b"\n") if l]
        if how[i] is None:
            odd.append("#%d still open after %.1f s (%r)" % (i, IDLE + 6, data[i][:80]))
        elif codes == ["busy"] and when[i] < IDLE:
            busy += 1
        elif codes == [] and when[i] < IDLE:
            silent += 1
        elif codes == ["timeout"] and IDLE * 0.8 <= when[i] <= IDLE + 1.5 + t_conn:
            held += 1
        else:
            odd.append("#%d: %r, %s after %.2f s" % (i, data[i][:120], how[i], when[i]))
    for s in socks:
        s.close()
    print("flood: %d connections in %.2f s: %d taken (cut off with timeout), %d told busy, "
          "%d closed silently" % (n, t_conn, held, busy, silent), flush=True)
    print("taken=%d" % held, flush=True)
    if odd:
        bad("flood: %d connections got something else: %s" % (len(odd), "; ".join(odd[:5])))
    if least <= held <= limit:
        ok("flood: %d connections taken, %d..%d wanted" % (held, least, limit))
    else:
        bad("flood: %d connections taken; wanted %d..%d" % (held, least, limit))
    if busy + held == n:
        ok("flood: the other %d were each told busy and closed" % busy)
    else:
        bad("flood: %d told busy, %d closed without a word, %d taken: not %d"
            % (busy, silent, held, n))


def slow(n):
    """n clients trickling one byte a second: each cut off with timeout after IDLE."""
    req = b'{"op":"status"}\n'
    socks = [connect() for _ in range(n)]
    t0 = time.monotonic()
    data = [b""] * n
    closed = [None] * n
    sent = [0] * n
    for s in socks:
        s.setblocking(False)
    next_byte = t0
    while time.monotonic() < t0 + IDLE + 5 and any(c is None for c in closed):
        now = time.monotonic()
        if now >= next_byte:
            for i, s in enumerate(socks):
                if closed[i] is None and sent[i] < len(req) - 1:  # never the newline
                    try:
                        s.send(req[sent[i]:sent[i] + 1])
                        sent[i] += 1
                    except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                        pass
            next_byte += 1.0
        for i, s in enumerate(socks):
            if closed[i] is not None:
                continue
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                d = None
            if not d:
                closed[i] = time.monotonic() - t0
            else:
                data[i] += d
        time.sleep(0.02)
    good = 0
    for i in range(n):
        codes = [error_code(l) for l in data[i].split(b"\n") if l]
        if codes == ["timeout"] and closed[i] is not None and IDLE * 0.8 <= closed[i] <= IDLE + 1.5:
            good += 1
        else:
            bad("slow client #%d: %r, closed after %s s, %d bytes sent"
                % (i, data[i][:120], closed[i], sent[i]))
    for s in socks:
        s.close()
    if good == n:
        ok("slow: %d clients sending a byte a second got 'timeout' and were closed after "
           "%.0f s (idle_timeout)" % (n, IDLE))


def big_line():
    """A 100 MiB line: too_large, closed, and the daemon stops reading it."""
    s = connect()
    got = {}

    def reader():
        got["data"], got["how"] = read_all(s, 60)

    t = threading.Thread(target=reader)
    t.start()
    chunk = b"a" * (1 << 20)
    sent, err = 0, None
    try:
        s.sendall(b'{"op":"status","pad":"')
        for _ in range(100):
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError) as e:
        err = e.__class__.__name__
    t.join(60)
    lines = [l for l in got.get("data", b"").split(b"\n") if l]
    codes = [error_code(l) for l in lines]
    print("big line: %d MiB sent before %s; reply %r; %s" % (
        sent >> 20, err, lines[0][:200] if lines else None, got.get("how")), flush=True)
    if codes == ["too_large"] and got.get("how") in ("eof", "reset"):
        ok("a 100 MiB line: too_large, then the connection is closed")
    else:
        bad("a 100 MiB line: %r, %s" % (lines[:2], got.get("how")))
    if err and sent <= 8 << 20:
        ok("a 100 MiB line: refused after %d MiB" % (sent >> 20))
    else:
        bad("a 100 MiB line: the daemon took %d MiB of it (%s)" % (sent >> 20, err))
    s.close()


def garbage():
    """Malformed requests on one connection: bad_request each, and it keeps working."""
    deep = 10000
    cases = [
        ("invalid UTF-8 in a string", b'{"op":"status","x":"\xff\xfe"}'),
        ("an overlong UTF-8 encoding", b'{"op":"status","x":"\xc0\xaf"}'),
        ("a UTF-16 surrogate encoded in UTF-8", b'{"op":"status","x":"\xed\xa0\x80"}'),
        ("a truncated UTF-8 sequence", b'{"op":"status","x":"\xe2\x82"}'),
        ("invalid UTF-8 in a key", b'{"op":"status","\xff":1}'),
        ("invalid UTF-8 in the op", b'{"op":"stat\xffus"}'),
        ("a lone surrogate escape", b'{"op":"status","x":"\\ud800"}'),
        ("a lone invalid byte", b"\x80"),
        ("arrays nested 10,000 deep", b"[" * deep + b"]" * deep),
        ("objects nested 10,000 deep", b'{"a":' * deep + b"1" + b"}" * deep),
        ("a request nesting 10,000 deep", b'{"op":"status","x":' + b"[" * deep + b"]" * deep + b"}"),
        ("10,000 unclosed brackets", b"[" * deep),
        ("65 levels", b'{"op":"status","x":' + b"[" * 64 + b"]" * 64 + b"}"),
        ("a NUL after the object", b'{"op":"status"}\x00'),
        ("a NUL inside a string", b'{"op":"status","x":"a\x00b"}'),
        ("not JSON", b"GET / HTTP/1.1"),
        ("an array", b'["op","status"]'),
        ("a duplicate key", b'{"op":"status","op":"log"}'),
    ]
    s = connect()
    for what, line in cases:
        reply, how = ask(s, line)
        code = error_code(reply) if reply else None
        if code == "bad_request" and how == "lines":
            ok("%s: bad_request" % what)
        else:
            bad("%s: %r (%s)" % (what, reply[:200] if reply else None, how))
            s.close()
            s = connect()
            continue
        reply, how = ask(s, b'{"op":"status"}')
        if not reply or json.loads(reply).get("ok") is not True:
            bad("after %s the connection does not answer status: %r" % (what, reply))
            s.close()
            s = connect()
    # 64 levels is the limit: one more was refused above, these are not refused for depth.
    reply, _ = ask(s, b'{"op":"status","x":' + b"[" * 63 + b"]" * 63 + b"}")
    if reply and b"nests deeper" not in reply:
        ok("64 levels are not refused for their depth")
    else:
        bad("64 levels: %r" % reply)
    s.close()


def junk_keys(tag):
    """A read with junk beside its filters is answered, and recorded (checked by the caller)."""
    s = connect()
    for what, extra in (("a real", b'"pad":0.5'),
                        ("1 MiB of padding", b'"pad":"' + b"p" * ((1 << 20) - 200) + b'"')):
        line = b'{"op":"log","limit":1,"device":"%s-%d",%s}' % (
            tag.encode(), len(what), extra)
        reply, how = ask(s, line)
        if reply and json.loads(reply).get("ok") is True:
            ok("a log request with %s beside its filters is answered" % what)
        else:
            bad("a log request with %s: %r %s" % (what, reply[:200] if reply else None, how))
    s.close()


def mid_reply(n):
    """Ask for a large log reply and hang up after a few bytes, or none."""
    sizes = []
    for i in range(n):
        s = connect()
        s.sendall(b'{"op":"log","limit":1000}\n')
        if i % 2 == 0:
            sizes.append(len(s.recv(100)))
        s.close()
    # A whole reply, to show how large it is.
    s = connect()
    s.sendall(b'{"op":"log","limit":1000}\n')
    buf, how = read_all(s, 20, lines=1)
    s.close()
    print("mid-reply: %d clients hung up (half after reading %s bytes); a whole reply is %d bytes"
          % (n, sorted(set(sizes)), len(buf)), flush=True)
    if len(buf) > 1 << 20 and json.loads(buf.split(b"\n")[0]).get("ok") is True:
        ok("mid-reply: %d clients hung up inside a %.1f MiB reply; the next one gets it whole"
           % (n, len(buf) / (1 << 20)))
    else:
        bad("mid-reply: the whole reply is %d bytes (%s)" % (len(buf), how))


def no_read():
    """Pipeline large requests and never read: closed when its queue passes 8 MiB."""
    s = connect()
    s.setblocking(False)
    t0 = time.monotonic()
    sent = 0
    req = b'{"op":"log","limit":1000}\n'
    hup = False
    poller = __import__("select").poll()
    poller.register(s, 0x10 | 0x2000)  # POLLHUP | POLLRDHUP
    while time.monotonic() < t0 + 15 and not hup:
        try:
            s.send(req)
            sent += 1
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass
        for _, ev in poller.poll(100):
            if ev & (0x10 | 0x2000):
                hup = True
    dt = time.monotonic() - t0
    s.close()
    if hup:
        ok("a client that never reads is closed after %.1f s (%d requests sent)" % (dt, sent))
    else:
        bad("a client that never reads is still connected after %.0f s" % dt)


def no_role():
    """A user in no role group: forbidden, then closed (each one recorded, checked by the
    caller), even when what it names is 900 KB long."""
    for op in (b'{"op":"entry","index":0}', b'{"op":"status"}',
               b'{"op":"entry","kind":"' + b"k" * 900000 + b'"}'):
        s = connect()
        reply, how = ask(s, op)
        rest, how = read_all(s, 3)
        code = error_code(reply) if reply else None
        if code == "forbidden" and how in ("eof", "reset") and not rest:
            ok("no role: %s is forbidden and the connection closed" % op.decode()[:40])
        else:
            bad("no role: %s: %r, then %r %s" % (op.decode()[:40], reply, rest[:100], how))
        s.close()


def fill(n):
    """n interruption annotations with 16,000-byte reasons: a log reply of several MiB."""
    s = connect()
    f = s.makefile("rb")
    for i in range(n):
        req = {"op": "annotate", "kind": "interruption", "device": "CAM%03d" % i,
               "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:01:00Z",
               "reason": ("%05d" % i) * 3200}
        s.sendall(json.dumps(req).encode() + b"\n")
    for i in range(n):
        r = json.loads(f.readline())
        if r.get("ok") is not True:
            bad("annotation %d: %r" % (i, r))
            break
    else:
        ok("%d annotations of 16,000 bytes" % n)
    s.close()


def raw_status():
    """The daemon's own answer time: connect, ask status, read the reply (ms, or -1)."""
    t = time.monotonic()
    try:
        s = connect()
        reply, how = ask(s, b'{"op":"status"}', timeout=5)
        s.close()
        if not reply or json.loads(reply).get("ok") is not True:
            return -1.0
    except (OSError, ValueError):
        return -1.0
    return (time.monotonic() - t) * 1000


def monitor(pid, ctl, stopfile, phasefile, out):
    """custodyctl status back to back, with the daemon's RSS and descriptors."""
    with open(out, "w") as o:
        while not os.path.exists(stopfile):
            try:
                phase = open(phasefile).read().strip()
            except OSError:
                phase = "?"
            t = time.monotonic()
            r = subprocess.run([ctl, "--socket", SOCK, "status"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
            ms = (time.monotonic() - t) * 1000
            raw = raw_status()
            st = {}
            try:
                for l in open("/proc/%d/status" % pid):
                    k, _, v = l.partition(":")
                    if k in ("VmRSS", "RssAnon"):
                        st[k] = int(v.split()[0])
                fds = len(os.listdir("/proc/%d/fd" % pid))
            except OSError:
                st, fds = {"VmRSS": -1, "RssAnon": -1}, -1
            err = r.stderr.decode(errors="replace").strip().replace(" ", "_")[:80] or "-"
            o.write("%s %d %.1f %.1f %d %d %d %s\n" % (phase, r.returncode, ms, raw,
                                                       st.get("VmRSS", -1),
                                                       st.get("RssAnon", -1), fds, err))
            o.flush()
            time.sleep(0.02)


cmd = sys.argv[1]
if cmd == "flood":
    flood(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
elif cmd == "slow":
    slow(int(sys.argv[2]))
elif cmd == "big-line":
    big_line()
elif cmd == "garbage":
    garbage()
elif cmd == "junk-keys":
    junk_keys(sys.argv[2])
elif cmd == "mid-reply":
    mid_reply(int(sys.argv[2]))
elif cmd == "no-read":
    no_read()
elif cmd == "no-role":
    no_role()
elif cmd == "fill":
    fill(int(sys.argv[2]))
elif cmd == "monitor":
    monitor(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
sys.exit(1 if fails else 0)
PY
chmod 0755 "$tmp/abuse.py"
export SOCK="$tmp/custody.sock" IDLE_S=$idle_s
# run USER CMD...: the client as USER (root: as is); its FAIL lines count here.
run() {
	local u=$1 out
	shift
	if [ "$u" = root ]; then
		out=$(python3 "$tmp/abuse.py" "$@" 2>&1) || true
	else
		out=$(as "$u" env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" "$@" 2>&1) || true
	fi
	echo "$out"
	fails=$((fails + $(grep -c '^FAIL' <<<"$out" || true)))
	grep -q '^ok:\|^FAIL' <<<"$out" || bad "'$*' as $u checked nothing: $(tail -3 <<<"$out")"
	alive || { bad "custodyd died during '$*': $(tail -5 "$tmp/daemon.log")"; exit 1; }
}
phase() { echo "$1" >"$tmp/phase"; }

# A log of large entries, so that a `log` reply is several MiB.
run root fill 260

phase baseline
python3 "$tmp/abuse.py" monitor "$daemon" "$CUSTODYCTL" "$tmp/stop" "$tmp/phase" "$tmp/samples" &
monitor=$!
sleep 2

phase flood
# One user: max_clients_per_user, 32 by default.
run ct-ab-nobody flood 500 32 1
# Ten users, 50 connections each: the operators' reserve is max_clients / 16 of the 256 places
# (daemon/server/server.c), so at most 240 are taken in all, and more than one user's 32.
floods=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	as ct-ab-f$i env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" flood 50 32 0 \
		>"$tmp/flood.$i" 2>&1 &
	floods+=($!)
done
wait "${floods[@]}" || true
cat "$tmp"/flood.[0-9]
fails=$((fails + $(cat "$tmp"/flood.[0-9] | grep -c '^FAIL' || true)))
taken=0
for n in $(sed -n 's/^taken=//p' "$tmp"/flood.[0-9]); do taken=$((taken + n)); done
if [ "$taken" -gt 32 ] && [ "$taken" -le 240 ]; then
	ok "flood by ten users: $taken connections taken in all (33..240 wanted)"
else
	bad "flood by ten users: $taken connections taken in all; wanted 33..240"
fi
alive || { bad "custodyd died during the flood by ten users: $(tail -5 "$tmp/daemon.log")"; exit 1; }
phase slow
# In the background, beside the abuses below: the slow clients hold up nobody (a user of their
# own: they hold 20 of max_clients_per_user's 32 for a while).
as ct-ab-slow env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" slow 20 >"$tmp/slow.out" 2>&1 &
slowpid=$!
phase garbage
run ct-ab-rev big-line
run ct-ab-rev garbage
tag=junk-$$-$RANDOM
run ct-ab-rev junk-keys "$tag"
phase no-role
run ct-ab-nobody no-role
phase mid-reply
run ct-ab-rev mid-reply 20
phase no-read
run ct-ab-rev no-read
wait $slowpid || true
cat "$tmp/slow.out"
fails=$((fails + $(grep -c '^FAIL' "$tmp/slow.out" || true)))
grep -q '^ok:\|^FAIL' "$tmp/slow.out" || bad "the slow clients checked nothing"
phase after
for _ in $(seq 1 50); do
	[ "$(C status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["server"]["clients"])')" -le 1 ] && break
	sleep 0.1
done
sleep 2
touch "$tmp/stop"
wait $monitor || true
alive && ok "custodyd is still running" || bad "custodyd died"

python3 - "$tmp/samples" <<'PY' >"$tmp/verdict" || true
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
PY
cat "$tmp/verdict"
fails=$((fails + $(grep -c '^FAIL' "$tmp/verdict" || true)))

# The refusal of the user with no role is an access entry naming its uid.
nobody_uid=$(id -u ct-ab-nobody)
C log --type access --limit 1000 --json >"$tmp/access.json"
if python3 - "$tmp/access.json" "$nobody_uid" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
uid = int(sys.argv[2])
hits = [e["entry"] for e in d["entries"] if e["entry"].get("uid") == uid]
refused = [e for e in hits if e.get("allowed") is False]
print("  access entries of uid %d: %s" % (uid, [(e["op"], e["allowed"], str(e["target"])[:20]) for e in hits]))
sys.exit(0 if len(refused) == 3 else 1)
PY
	ok "the 3 refusals of the user with no role are access entries"
else
	bad "not 3 access entries with allowed:false for uid $nobody_uid: $(grep -m3 'cannot append' "$tmp/daemon.log" | cut -c1-200)"
fi
# Junk beside the filters does not keep a read out of the log.
n=$(python3 - "$tmp/access.json" "$tag" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for e in d["entries"] if e["entry"].get("op") == "log" and
          str(e["entry"].get("target", {}).get("device", "")).startswith(sys.argv[2])))
PY
)
[ "$n" = 2 ] && ok "both log requests with junk keys are recorded as access entries" \
	|| bad "$n of the 2 log requests with junk keys are recorded: $(grep -m3 'cannot append' "$tmp/daemon.log" | cut -c1-300)"

kill -TERM "$daemon"
code=0
wait "$daemon" || code=$?
daemon=
[ $code = 0 ] && ok "SIGTERM after the abuse: exit 0" || bad "SIGTERM: exit $code"

if [ $fails -ne 0 ]; then
	echo "$fails checks failed; daemon log:" >&2
	tail -30 "$tmp/daemon.log" >&2
	exit 1
fi
echo "all checks passed"
