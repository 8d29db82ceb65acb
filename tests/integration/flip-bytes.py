#!/usr/bin/env python3
"""flip-bytes.py FILE COUNT MASK [OFFSET]: XOR COUNT bytes of FILE with MASK, in place, from
OFFSET (the middle of the file when not given)."""
import sys

path, count, mask = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0)
with open(path, "r+b") as f:
    data = f.read()
    at = int(sys.argv[4]) if len(sys.argv) > 4 else len(data) // 2
    f.seek(at)
    f.write(bytes(b ^ mask for b in data[at:at + count]))
