#!/usr/bin/env python3
"""hold-lock.py DB: take the writer lock of the log database DB (its custody.lock), say
"locked" and keep it for a minute (tests/integration/cli.sh)."""
import fcntl
import sys
import time

f = open(sys.argv[1] + "/custody.lock", "r+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(60)
