"""An imitation of `docker pull`: one line per layer, updated in place with cursor up/down and CSI 2K."""
import random
import sys
import time

layers = ["a2abf6c4d29d", "a9edb18cadd1", "589b7251471a", "186b1aaa4aa6", "b4df32aa5a72", "a0bcbecc962e"]
rng = random.Random(7)
out = sys.stdout
out.write("Using default tag: latest\nlatest: Pulling from library/nginx\n")
for layer in layers:
    out.write(f"{layer}: Pulling fs layer \n")
out.flush()
state = {layer: 0 for layer in layers}


def redraw(index, text):
    # Up to the layer's line, erase it, write, then back down to the line under the display.
    up = len(layers) - index
    out.write(f"\x1b[{up}A\x1b[2K\r{layers[index]}: {text}\x1b[{up}B\r")
    out.flush()


while any(v < 100 for v in state.values()):
    index = rng.randrange(len(layers))
    layer = layers[index]
    if state[layer] >= 100:
        continue
    state[layer] = min(100, state[layer] + rng.randrange(10, 35))
    if state[layer] < 100:
        bar = "=" * (state[layer] // 2) + ">" + " " * (50 - state[layer] // 2)
        redraw(index, f"Downloading [{bar}]  {state[layer] * 312 // 100}kB/3.12MB")
    else:
        redraw(index, "Download complete")
        time.sleep(0.02)
        redraw(index, "Pull complete")
    time.sleep(0.03)
out.write("Digest: sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31\n")
out.write("Status: Downloaded newer image for nginx:latest\ndocker.io/library/nginx:latest\n")
