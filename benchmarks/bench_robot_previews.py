"""What the dashboard's previews cost the inference worker: one
``PreviewRing.add`` per served frame with the robot's renderer (the frame read
from its file, thumbnail, overlay, JSON; every file
renamed into place), at the demo's frame sizes, printed as a Markdown table
with the disk each frame's preview takes. The worker's own inference of a
frame is in the demo's table; this is what the previews add to it.

    python benchmarks/bench_robot_previews.py [frames]
"""

import os
import statistics
import sys
import tempfile
import time

from sedna.core.labelling.previews import PreviewRing
from sedna.examples.robo import datagen
from sedna.examples.robo.imageio import write_rgb
from sedna.examples.robo.plugins import RoboRenderer


def measure(size, frames):
    with tempfile.TemporaryDirectory() as tmp:
        rgb_path = os.path.join(tmp, "frame.png")
        rgb, _, label = datagen.render_frame("real/aachen", 1, size=size)  # a real frame and its labels
        write_rgb(rgb_path, rgb)
        ring = PreviewRing(os.path.join(tmp, "frames"), RoboRenderer())
        times = []
        for i in range(frames):
            t0 = time.perf_counter()
            ring.add(f"aachen_{i:06d}_leftImg8bit.png", rgb_path, label, task="real/aachen.model",
                     unseen=i % 4 == 0, score=1.0, threshold=2.0, kb_version=1, when=time.time())
            times.append(time.perf_counter() - t0)
        latest = os.path.join(tmp, "frames", "latest")
        per_frame = sum(os.path.getsize(os.path.join(latest, n)) for n in os.listdir(latest)) / len(
            [n for n in os.listdir(latest) if n.endswith(".json")])
    return statistics.median(times), sorted(times)[int(0.95 * (len(times) - 1))], per_frame


def main(argv):
    frames = int(argv[0]) if argv else 200
    print(f"| frame size | median ms / frame | p95 ms | disk per kept frame (KiB) |   ({frames} frames)")
    print("|---|---|---|---|")
    for size in ((32, 64), (96, 192), (128, 256)):
        med, p95, disk = measure(size, frames)
        print(f"| {size[0]}x{size[1]} | {med * 1000:.2f} | {p95 * 1000:.2f} | {disk / 1024:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
