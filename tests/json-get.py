#!/usr/bin/env python3
"""json-get.py FILE|- PATH: the value at PATH in the JSON document in FILE (- for stdin).

tests/lib.sh's jget, in place of a python3 -c line per field.  PATH is a chain of steps:
  .KEY or ["KEY"]   a member of an object
  [N]               an element of an array (negative: from the end)
  []                every element of an array, each on its own line
  [KEY=VALUE]       the array of the elements whose KEY (dotted: entry.name) prints as VALUE;
                    VALUE runs to the first ']' followed by the end or by '.', '[' or '|'
  |length           the number of elements or members, or the length of a string (last step)
  .                 the whole document
A string prints as itself; anything else as compact JSON (true, null, 3, [1,2]).  Nothing is
printed and the exit status is 1 when PATH leads nowhere (a missing member, an index out of
range); 2 for a malformed PATH or document.
"""
import json
import re
import sys

STEP = re.compile(r'\.([A-Za-z_][\w-]*)|\["([^"]*)"\]|\[(-?\d+)\]|\[\]'
                  r'|\[([A-Za-z_][\w.-]*)=(.*?)\](?=$|[.\[|])|\|\s*length$|\.$', re.S)


def show(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def member(v, key):
    for k in key.split("."):
        if not isinstance(v, dict) or k not in v:
            return None, False
        v = v[k]
    return v, True


def matches(v, key, want):
    got, found = member(v, key)
    return found and show(got) == want


def step(values, m):
    key = m.group(1) if m.group(1) is not None else m.group(2)
    out = []
    for v in values:
        if key is not None:
            if isinstance(v, dict) and key in v:
                out.append(v[key])
        elif m.group(3) is not None:
            i = int(m.group(3))
            if isinstance(v, list) and -len(v) <= i < len(v):
                out.append(v[i])
        elif m.group(0) == "[]":
            if isinstance(v, list):
                out.extend(v)
        elif m.group(4) is not None:
            if isinstance(v, list):
                out.append([x for x in v if matches(x, m.group(4), m.group(5))])
        elif m.group(0).startswith("|"):
            if isinstance(v, (list, dict, str)):
                out.append(len(v))
        else:
            out.append(v)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: json-get.py FILE|- PATH")
    path = sys.argv[2]
    steps, pos = [], 0
    while pos < len(path):
        m = STEP.match(path, pos)
        if not m or m.end() == pos:
            print("json-get.py: cannot read %r at %r" % (path, path[pos:]), file=sys.stderr)
            sys.exit(2)
        steps.append(m)
        pos = m.end()
    try:
        f = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
        values = [json.load(f)]
    except (OSError, ValueError) as e:
        print("json-get.py: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        sys.exit(2)
    for m in steps:
        values = step(values, m)
    for v in values:
        print(show(v))
    sys.exit(0 if values else 1)


main()
