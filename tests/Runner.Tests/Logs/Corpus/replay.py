#!/usr/bin/env python3
"""Writes a capture back to stdout with its recorded timing: replay.py CASE.raw CASE.timing [MAX_DELAY].

Each recorded read is written in one write(2) after its recorded delay, capped at MAX_DELAY seconds
(default 1) so a slow capture (a compile step) does not make the test slow; the order and the read
boundaries, which are what a terminal processor sees, are kept exactly. Run it with `stty -opost`
on a pty: the capture already holds the program's "\\r\\n".
"""
import os
import sys
import time

raw_path, timing_path = sys.argv[1], sys.argv[2]
max_delay = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
with open(raw_path, "rb") as f:
    data = f.read()
offset = 0
with open(timing_path) as timing:
    for line in timing:
        delay, count = line.split()
        time.sleep(min(float(delay), max_delay))
        chunk = data[offset:offset + int(count)]
        while chunk:
            chunk = chunk[os.write(1, chunk):]
        offset += int(count)
if offset != len(data):
    sys.exit(f"timing covers {offset} of {len(data)} bytes")
