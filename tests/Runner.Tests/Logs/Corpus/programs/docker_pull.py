"""A reproduction of `docker pull`'s terminal output, byte for byte as docker's jsonmessage.DisplayJSONMessagesStream
writes it: each layer is announced when the daemon first reports it (a line feed, then up one row to write it and
down again), and every update goes up by the layer's distance from the bottom, erases the row, writes, and comes back
down. Layers are announced in reads of their own, as the daemon reports them one by one."""
import random
import sys
import time

layers = ["a2abf6c4d29d", "a9edb18cadd1", "589b7251471a", "186b1aaa4aa6", "b4df32aa5a72", "a0bcbecc962e"]
rng = random.Random(7)
out = sys.stdout
ids = {}


def show(layer, text):
    if layer not in ids:
        ids[layer] = len(ids)
        out.write("\n")
    diff = len(ids) - ids[layer]
    out.write(f"\x1b[{diff}A\x1b[2K\r{layer}: {text} \r\x1b[{diff}B")
    out.flush()


out.write("Using default tag: latest\nlatest: Pulling from library/nginx\n")
out.flush()
for layer in layers:
    time.sleep(0.02)
    show(layer, "Pulling fs layer")
for layer in layers[2:]:
    show(layer, "Waiting")
state = {layer: 0 for layer in layers}
while any(v < 100 for v in state.values()):
    index = rng.randrange(len(layers))
    layer = layers[index]
    if state[layer] >= 100:
        continue
    state[layer] = min(100, state[layer] + rng.randrange(10, 35))
    if state[layer] < 100:
        bar = "=" * (state[layer] // 2) + ">" + " " * (50 - state[layer] // 2)
        show(layer, f"Downloading [{bar}]  {state[layer] * 312 // 100}kB/3.12MB")
    else:
        show(layer, "Download complete")
        time.sleep(0.02)
        show(layer, "Pull complete")
    time.sleep(0.03)
out.write("Digest: sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31\n")
out.write("Status: Downloaded newer image for nginx:latest\ndocker.io/library/nginx:latest\n")
