#!/usr/bin/env python3
"""abuse-clients.py COMMAND ARGS: the misbehaving clients of tests/integration/abuse.sh, one
COMMAND per abuse, on the socket $SOCK with the daemon's idle_timeout $IDLE_S (seconds).  Each
prints ok: and FAIL: lines and exits 1 if one failed."""
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
    """The code of an error reply ({"ok": false, "error": {...}}), None if the line is not one."""
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
        ("a request nesting 10,000 deep",
         b'{"op":"status","x":' + b"[" * deep + b"]" * deep + b"}"),
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
