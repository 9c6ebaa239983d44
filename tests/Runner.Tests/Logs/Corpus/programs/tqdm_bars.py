"""tqdm drivers for the corpus: python3 tqdm_bars.py single|nested|parallel|six_bars|leave_false|write|training."""
import random
import sys
import time

from tqdm import tqdm


def single():
    for _ in tqdm(range(120), desc="download"):
        time.sleep(0.015)


def nested():
    for _ in tqdm(range(3), desc="outer"):
        for _ in tqdm(range(40), desc="inner"):
            time.sleep(0.01)


def bars_at_positions(count, seed):
    # Bars at fixed positions, advanced in a seeded random order as worker threads would.
    rng = random.Random(seed)
    bars = [tqdm(total=40 if count == 4 else 30, desc=f"{'worker' if count == 4 else 'shard'} {i}", position=i) for i in range(count)]
    while any(b.n < b.total for b in bars):
        bar = rng.choice([b for b in bars if b.n < b.total])
        bar.update(1)
        time.sleep(0.01)
    for bar in bars:
        bar.close()


def parallel():
    bars_at_positions(4, seed=4)


def six_bars():
    # tqdm reaches a bar at position n with n line feeds and comes back with n single-row moves up (ESC[A repeated),
    # so the reach of its redraws shows only in where the cursor has been.
    bars_at_positions(6, seed=6)


def leave_false():
    for _ in tqdm(range(3), desc="files"):
        for _ in tqdm(range(30), desc="chunks", leave=False):
            time.sleep(0.01)


def write():
    for i in tqdm(range(60), desc="steps"):
        if i % 15 == 0:
            tqdm.write(f"checkpoint at step {i}")
        time.sleep(0.02)


def training():
    for epoch in tqdm(range(4), desc="epoch"):
        batches = tqdm(range(50), desc=f"train {epoch}", leave=False)
        loss = 2.0
        for _ in batches:
            loss *= 0.98
            batches.set_postfix(loss=f"{loss:.4f}")
            time.sleep(0.008)
        tqdm.write(f"epoch {epoch}: loss {loss:.4f} val_acc {0.5 + epoch / 10:.2f}")


globals()[sys.argv[1]]()
