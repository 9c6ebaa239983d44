"""A full-screen dashboard on the normal screen, as monitoring scripts draw one: the screen erased once, then every
frame homes the cursor (CSI H) and rewrites the table row by row (CSI K ends each row); the header never changes."""
import sys
import time

out = sys.stdout
out.write("\x1b[H\x1b[2J")
services = ["api", "web", "worker", "scheduler", "cache"]
for frame in range(12):
    out.write("\x1b[H")
    out.write("SERVICE      CPU    MEMORY   STATUS\x1b[K\n")
    for i, name in enumerate(services):
        cpu = (frame * 7 + i * 13) % 100
        out.write(f"{name:<12} {cpu:>3}%   {100 + frame * 3 + i:>4} MB  {'ok' if frame < 11 else 'stopped'}\x1b[K\n")
    out.flush()
    time.sleep(0.08)
out.write("\ndashboard closed\n")
