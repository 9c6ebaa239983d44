"""An imitation of apt's fancy progress (Dpkg::Progress-Fancy): a scroll region above a bottom-row bar."""
import sys
import time

out = sys.stdout
rows = 50
packages = ["libfoo1", "libbar2", "baz-common", "baz", "qux-utils"]
out.write("Reading package lists... Done\nBuilding dependency tree... Done\n")
out.write(f"\n\x1b7\x1b[0;{rows - 1}r\x1b8\x1b[1A")  # reserve the last row, keep the cursor where it was
steps = [f"{verb} {p} (1.{i}-1) ..." for i, p in enumerate(packages) for verb in ("Unpacking", "Setting up")]
for n, step in enumerate(steps, 1):
    out.write(step + "\n")
    percent = n * 100 // len(steps)
    bar = "#" * (percent * 60 // 100) + "." * (60 - percent * 60 // 100)
    out.write(f"\x1b7\x1b[{rows};0f\x1b[42m\x1b[30mProgress: [{percent:3d}%]\x1b[49m\x1b[39m [{bar}] \x1b8")
    out.flush()
    time.sleep(0.05)
out.write(f"\x1b7\x1b[0;{rows}r\x1b8\x1b[{rows};0f\x1b[2K\x1b8")  # region back to full screen, bar erased
out.write("Processing triggers for man-db ...\n")
