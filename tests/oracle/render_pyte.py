#!/usr/bin/python3
"""The second oracle: renders raw terminal output into golden log text with pyte (Debian's python3-pyte).

    render_pyte.py FILE.raw | render_pyte.py < FILE.raw | render_pyte.py --batch < in.json

Same rules and interface as render.mjs: a 200x50 HistoryScreen, history (scrollback) + screen, soft-wrapped
rows joined into one logical line, trailing blanks trimmed, trailing empty lines dropped, "\\n" after every
line. pyte keeps no soft-wrap flag, so this screen records one: a row is a continuation when the cursor
autowrapped onto it. README.md lists where pyte and xterm.js disagree; xterm.js is the reference.
"""
import base64
import json
import sys

import pyte
from pyte import modes

COLS, ROWS = 200, 50
HISTORY = 200_000


class WrapTrackingScreen(pyte.HistoryScreen):
    def draw(self, data):
        for char in data:
            wraps = self.cursor.x == self.columns and modes.DECAWM in self.mode
            super().draw(char)
            if wraps:
                self.buffer[self.cursor.y].wrapped = True

    def linefeed(self):
        super().linefeed()
        # A row the cursor reaches by a line feed starts a logical line, whatever it held before.
        self.buffer[self.cursor.y].wrapped = False


def render(data: bytes) -> str:
    screen = WrapTrackingScreen(COLS, ROWS, history=HISTORY, ratio=0.5)
    stream = pyte.ByteStream(screen)
    stream.feed(data)
    rows = list(screen.history.top) + [screen.buffer[y] for y in range(ROWS)]
    lines, logical = [], ""
    for i, row in enumerate(rows):
        text = "".join(row[x].data for x in range(COLS))
        following = rows[i + 1] if i + 1 < len(rows) else None
        if following is not None and getattr(following, "wrapped", False):
            logical += text
            continue
        lines.append((logical + text).rstrip(" "))
        logical = ""
    while lines and lines[-1] == "":
        lines.pop()
    return "".join(line + "\n" for line in lines)


def main():
    args = sys.argv[1:]
    if args[:1] == ["--batch"]:
        inputs = json.load(open(args[1]) if len(args) > 1 else sys.stdin)
        json.dump([render(base64.b64decode(b)) for b in inputs], sys.stdout)
        return
    data = open(args[0], "rb").read() if args else sys.stdin.buffer.read()
    sys.stdout.buffer.write(render(data).encode("utf-8", "surrogateescape"))


if __name__ == "__main__":
    main()
