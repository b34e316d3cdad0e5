#!/usr/bin/python3
"""Functions over 100 lines in the C files named (docs/design.md: no
function outside the tables is longer). A function is what lies between
a `{` and a `}` alone at column 0, as every function here is written;
tables (`= {` on their first line) are not counted. Prints each one
found; exits 1 if there is any."""
import sys

LIMIT = 100
bad = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line == "{":
            start = i
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            name = lines[j].strip()
        elif line == "}" and start is not None:
            if i - start > LIMIT:
                print("%s:%d: %s: %d lines" % (path, start, name[:60],
                                               i - start))
                bad += 1
            start = None
sys.exit(1 if bad else 0)
