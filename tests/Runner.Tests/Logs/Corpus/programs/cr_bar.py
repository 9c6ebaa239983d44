"""A single progress bar redrawn with \r, coloured, then finished with \n."""
import sys
import time

for i in range(101):
    sys.stdout.write(f"\r\x1b[32mupload\x1b[0m [{'█' * (i // 4)}{' ' * (25 - i // 4)}] {i:3d}% {i * 13} KiB")
    sys.stdout.flush()
    time.sleep(0.02)
sys.stdout.write("\ndone\n")
