"""``sedna label``: the annotator's step of the loop.

The inference worker saved the frames it did not recognise (their files and a
line each in ``unseen.txt``). Labelling attaches a label map to each and
appends ``rgb depth label`` lines to the Dataset's index, which is what
triggers the next training round.

* ``--truth ROOT``: the label comes from the generator's ground truth under
  ROOT (the demo's annotator);
* ``--labels DIR``: real labels, one PNG per frame named
  ``<frame>_gtFine_labelTrainIds.png`` (or ``<frame>_label.png``) in DIR, where
  ``<frame>`` is the frame's name without ``_leftImg8bit.png``; the frame, its
  depth and the label are copied under ``<index folder>/labelled/``.

Frames already labelled are remembered in ``labelled.txt`` beside
``unseen.txt``, so running it again adds nothing twice.
"""

import os
import shutil

from sedna.common.exceptions import SednaError

RGB_SUFFIX = "_leftImg8bit.png"


class LabelError(SednaError, ValueError):
    pass


def _unseen_entries(unseen_dir):
    path = os.path.join(unseen_dir, "unseen.txt")
    if not os.path.exists(path):
        raise LabelError(f"{path}: no unseen frames recorded (has the inference worker run?)")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if parts:
                out.append((n, parts))
    return out


def _done(unseen_dir):
    path = os.path.join(unseen_dir, "labelled.txt")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip()}


def _index_of_tree(root):
    """basename -> path relative to ``root`` for every RGB frame under it."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(RGB_SUFFIX):
                found.setdefault(name, os.path.relpath(os.path.join(folder, name), root))
    return found


def label(unseen_dir, index, truth=None, labels=None, limit=None):
    """Label the saved unseen frames and append them to ``index``. Returns the lines added."""
    if (truth is None) == (labels is None):
        raise LabelError("give exactly one of --truth ROOT (generated data) or --labels DIR (label PNGs)")
    if not os.path.exists(index):
        raise LabelError(f"{index}: the dataset index does not exist")
    base = os.path.dirname(os.path.abspath(index))
    entries = _unseen_entries(unseen_dir)
    done = _done(unseen_dir)
    lines, names = [], []
    frames = _index_of_tree(truth) if truth else None
    for n, parts in entries:
        rgb_name = os.path.basename(parts[0])
        if rgb_name in done or rgb_name in names:
            continue
        if truth:
            rel = frames.get(rgb_name)
            if rel is None:
                raise LabelError(f"{unseen_dir}/unseen.txt:{n}: {rgb_name} is not a frame under {truth}")
            from sedna.examples.robo.datagen import frame_paths

            paths = [os.path.join(truth, p) for p in frame_paths(truth, rel)]
        else:
            stem = rgb_name[:-len(RGB_SUFFIX)] if rgb_name.endswith(RGB_SUFFIX) else os.path.splitext(rgb_name)[0]
            lab = next((os.path.join(labels, stem + s) for s in ("_gtFine_labelTrainIds.png", "_label.png")
                        if os.path.exists(os.path.join(labels, stem + s))), None)
            if lab is None:
                continue  # not labelled yet: left for a later run
            dst = os.path.join(base, "labelled")
            os.makedirs(dst, exist_ok=True)
            src_files = [os.path.join(unseen_dir, p) for p in parts[:2]] + [lab]
            paths = []
            for src in src_files:
                if not os.path.exists(src):
                    raise LabelError(f"{unseen_dir}/unseen.txt:{n}: {src} is missing")
                target = os.path.join(dst, os.path.basename(src))
                shutil.copy2(src, target)
                paths.append(target)
        lines.append(" ".join(os.path.relpath(p, base) for p in paths))
        names.append(rgb_name)
        if limit and len(lines) >= limit:
            break
    if lines:
        # one write: the index watcher sees whole lines
        with open(index, "a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        with open(os.path.join(unseen_dir, "labelled.txt"), "a", encoding="utf-8") as f:
            f.write("".join(name + "\n" for name in names))
    return lines
