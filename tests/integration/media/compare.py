#!/usr/bin/env python3
"""Compare `custody-verify fingerprint --json --key-packets --packets FILE` (read from OUT) with
what stock FFmpeg says about FILE:

  ffprobe -v error -show_packets -show_data_hash sha256 \
          -show_entries packet=stream_index,data_hash,flags,pts,dts:stream=index,time_base -of json

For every stream: the packet count, the key-frame count, every packet's SHA-256 in demux order,
the digest (SHA-256 over the concatenated 32-byte packet hashes, docs/log.md) recomputed here from
ffprobe's hashes, and for video streams each key packet's ordinal, hash and pts/dts in
microseconds (rounded as av_rescale_q() rounds: to nearest, halves away from zero).

Usage: compare.py FILE OUT [--partial]   (--partial: ffprobe may fail; compare what it printed)
Prints one line per problem and exits 1 when there is any."""
import hashlib
import json
import subprocess
import sys
from fractions import Fraction


def rescale_us(ts, tb):
    if ts is None:
        return None
    v = Fraction(ts) * tb * 1000000
    n = abs(v.numerator) * 2 + v.denominator  # round half away from zero
    q = n // (2 * v.denominator)
    return q if v >= 0 else -q


def main():
    path, out = sys.argv[1], sys.argv[2]
    partial = "--partial" in sys.argv[3:]
    ours = json.load(open(out))
    p = subprocess.run(
        ["ffprobe", "-v", "error", "-show_packets", "-show_data_hash", "sha256",
         "-show_entries", "packet=stream_index,data_hash,flags,pts,dts:stream=index,time_base",
         "-of", "json", path], capture_output=True, text=True)
    if p.returncode != 0 and not partial:
        print(f"{path}: ffprobe failed: {p.stderr.strip()}")
        return 1
    probe = json.loads(p.stdout or "{}")
    tbs = {s["index"]: Fraction(s["time_base"]) for s in probe.get("streams", [])}
    per = {}
    for pkt in probe.get("packets", []):
        per.setdefault(pkt["stream_index"], []).append(pkt)
    problems = []
    seen = set()
    for st in ours.get("streams", []):
        i = st["index"]
        seen.add(i)
        pkts = per.get(i, [])
        hashes = [x["data_hash"].split(":", 1)[1].lower() for x in pkts]
        keys = sum(1 for x in pkts if "K" in x.get("flags", ""))
        digest = hashlib.sha256(b"".join(bytes.fromhex(h) for h in hashes)).hexdigest()
        if st["packets"] != len(pkts):
            problems.append(f"stream {i}: {st['packets']} packets, ffprobe lists {len(pkts)}")
        if st["keyframes"] != keys:
            problems.append(f"stream {i}: {st['keyframes']} key frames, ffprobe {keys}")
        if st.get("packet_hashes") != hashes:
            ph = st.get("packet_hashes") or []
            bad = next((n for n, (a, b) in enumerate(zip(ph, hashes)) if a != b), min(len(ph), len(hashes)))
            problems.append(f"stream {i}: packet hashes differ from ffprobe's from packet {bad}")
        if st["digest"] != digest:
            problems.append(f"stream {i}: digest {st['digest']}, from ffprobe's hashes {digest}")
        if st["type"] == "video":
            tb = tbs.get(i)
            want = []
            for n, x in enumerate(pkts):
                if "K" in x.get("flags", ""):
                    want.append({"ordinal": n, "hash": hashes[n],
                                 "pts_us": rescale_us(x.get("pts"), tb),
                                 "dts_us": rescale_us(x.get("dts"), tb)})
            if st.get("key_packets") != want:
                problems.append(f"stream {i}: key packets {st.get('key_packets')} != ffprobe {want}")
    for i in per:
        if i not in seen:
            problems.append(f"ffprobe lists packets of stream {i}, which the fingerprint lacks")
    for msg in problems:
        print(f"{path}: {msg}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
