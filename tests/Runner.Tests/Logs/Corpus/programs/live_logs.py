"""Plain log lines scrolling above a two-line live display redrawn in place (cursor up + CSI 2K)."""
import sys
import time

out = sys.stdout
total = 80
for i in range(total + 1):
    if i:
        out.write("\x1b[2A\r\x1b[J")  # back to the display's first line and erase it with what is below
    if i % 8 == 0 and i:
        out.write(f"2026-12-01 12:00:{i // 8:02d} INFO worker-{i % 3} processed batch {i // 8}\n")
    done = i * 40 // total
    out.write(f"\x1b[1mstatus\x1b[0m: {i}/{total} items\n")
    out.write(f"[{'#' * done}{'.' * (40 - done)}] {i * 100 // total}%\n")
    out.flush()
    time.sleep(0.02)
out.write("finished\n")
