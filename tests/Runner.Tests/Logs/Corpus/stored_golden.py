#!/usr/bin/env python3
"""Writes <case>.stored.golden: the log the storing rule keeps where it differs from the screen by a documented exception
(docs/architecture.md, "When a line is stored"), built from xterm.js renders (tests/oracle/render.mjs), never from the
runner.

    stored_golden.py CASE first-frame   the first frame of a display drawn as plain lines (the bytes before the first
                                        cursor-up) is stored as its lines end: its lines that the final text does not
                                        begin with come before the rest of the golden
    stored_golden.py CASE clear         `clear` (CSI H, CSI 2J, CSI 3J) between phases: each phase is stored, so the log
                                        is the render of each phase in turn
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RENDER = os.path.join(HERE, "..", "..", "..", "oracle", "render.mjs")
CLEAR = b"\x1b[H\x1b[2J\x1b[3J"


def render(data):
    return subprocess.run(["node", RENDER], input=data, capture_output=True, check=True).stdout.decode("utf-8")


def lines(text):
    return text.split("\n")[:-1] if text else []


def main():
    name, mode = sys.argv[1], sys.argv[2]
    raw = open(os.path.join(HERE, name + ".raw"), "rb").read()
    golden = open(os.path.join(HERE, name + ".golden"), encoding="utf-8").read()
    if mode == "first-frame":
        up = re.search(rb"\x1b\[\d*A", raw)
        first, final = lines(render(raw[: up.start()])), lines(golden)
        common = 0
        while common < min(len(first), len(final)) and first[common] == final[common]:
            common += 1
        stored = final[:common] + first[common:] + final[common:]
        text = "".join(line + "\n" for line in stored)
    elif mode == "clear":
        text = "".join(render(phase) for phase in raw.split(CLEAR))
    else:
        sys.exit(f"unknown mode {mode}")
    with open(os.path.join(HERE, name + ".stored.golden"), "w", encoding="utf-8") as out:
        out.write(text)


main()
