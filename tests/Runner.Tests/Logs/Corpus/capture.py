#!/usr/bin/env python3
"""Runs a program under a real 200x50 pseudo-terminal and records every read with its time.

    capture.py NAME [--stop-after S] [--stop-keys KEYS] -- COMMAND...

Writes NAME.raw (the bytes, exactly as read from the pty master) and NAME.timing (one line per read:
"<seconds since the previous read> <byte count>"). The pty keeps its default line discipline (opost,
onlcr), so NAME.raw holds the "\\r\\n" a terminal would receive. With --stop-after, KEYS (Python
escapes allowed, e.g. 'q' or '\\x03') are typed into the terminal after S seconds, for programs that
run until told to stop (top, watch); a program still alive 5 s later is killed.
"""
import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

COLS, ROWS = 200, 50


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--stop-after", type=float)
    parser.add_argument("--stop-keys", default="\\x03")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        os.execvpe(command[0], command, env)
    os.close(slave)

    reads = []
    start = last = time.monotonic()
    keys_sent = killed = False
    keys = args.stop_keys.encode().decode("unicode_escape").encode("latin-1")
    while True:
        now = time.monotonic()
        if args.stop_after is not None and not keys_sent and now - start >= args.stop_after:
            os.write(master, keys)
            keys_sent = True
        if keys_sent and not killed and now - start >= args.stop_after + 5:
            os.kill(pid, signal.SIGKILL)
            killed = True
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer of the slave side has gone
            break
        if not data:
            break
        now = time.monotonic()
        reads.append((now - last, data))
        last = now
    os.waitpid(pid, 0)

    with open(args.name + ".raw", "wb") as raw, open(args.name + ".timing", "w") as timing:
        for delay, data in reads:
            raw.write(data)
            timing.write(f"{delay:.6f} {len(data)}\n")
    total = sum(len(d) for _, d in reads)
    print(f"{args.name}: {len(reads)} reads, {total} bytes, {last - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
