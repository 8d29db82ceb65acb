#!/usr/bin/env python3
"""tamper-proof.py WHAT IN OUT: a copy of the proof file IN, tampered with, in OUT
(tests/integration/cli.sh).  WHAT is one of:
  entry      the logged JSON changed ("i":4 to "i":5) and encoded again: still well-formed
  hash       one bit of the first proof hash flipped
  index      "index 4" made "index 5"
  root       one bit of the checkpoint's root hash flipped
  signature  one bit of the signature flipped
  origin     the origin line changed
  flip       for each byte of IN, a copy with one bit of that byte flipped: OUT/POS.tlog-proof
             (OUT a folder; one program for all of them, not one a byte)
"""
import base64
import sys

what, src, dst = sys.argv[1:4]
if what == "flip":
    data = open(src, "rb").read()
    for pos in range(len(data)):
        b = bytearray(data)
        b[pos] ^= 1
        open("%s/%d.tlog-proof" % (dst, pos), "wb").write(b)
    sys.exit(0)
t = open(src).read()
lines = t.split("\n")


def flipped(b64, at):
    h = bytearray(base64.b64decode(b64))
    h[at] ^= 1
    return base64.b64encode(bytes(h)).decode()


if what == "entry":
    e = base64.b64decode(lines[1][6:]).replace(b"\"i\":4", b"\"i\":5")
    lines[1] = "extra " + base64.b64encode(e).decode()
elif what == "hash":
    lines[3] = flipped(lines[3], 7)
elif what == "index":
    lines = t.replace("\nindex 4\n", "\nindex 5\n").split("\n")
elif what == "root":
    i = lines.index("office.test/custody") + 2
    lines[i] = flipped(lines[i], 0)
elif what == "signature":
    i = [n for n, s in enumerate(lines) if s.startswith("\u2014 ")][0]
    name, sig = lines[i].rsplit(" ", 1)
    lines[i] = name + " " + flipped(sig, 10)
elif what == "origin":
    lines = t.replace("\noffice.test/custody\n", "\noffice.test/custodz\n").split("\n")
else:
    sys.exit("tamper-proof.py: no such tampering: " + what)
open(dst, "w").write("\n".join(lines))
