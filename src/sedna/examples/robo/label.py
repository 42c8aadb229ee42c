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
``unseen.txt``, so running it again adds nothing twice; frames thrown away
(:func:`discard`, the dashboard's "discard") in ``discarded.txt``, so they are
never labelled. ``names`` limits either to the frames a user selected.
"""

import os
import shutil

from sedna.common.confine import inside
from sedna.common.exceptions import SednaError

RGB_SUFFIX = "_leftImg8bit.png"


class LabelError(SednaError, ValueError):
    pass


def _lines(path):
    """The lines of a regular file (a FIFO or a folder there is an error, never a hang); None if missing."""
    from sedna.control.files import NotRegularFile, open_regular

    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return None
    except (OSError, NotRegularFile) as e:
        raise LabelError(f"{path}: {e}") from e
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def _unseen_entries(unseen_dir):
    path = os.path.join(unseen_dir, "unseen.txt")
    lines = _lines(path)
    if lines is None:
        raise LabelError(f"{path}: no unseen frames recorded (has the inference worker run?)")
    return [(n, line.split()) for n, line in enumerate(lines, 1) if line.split()]


def _done(unseen_dir, name="labelled.txt"):
    return {line.strip() for line in _lines(os.path.join(unseen_dir, name)) or () if line.strip()}


def pending(unseen_dir):
    """The saved unseen frames still to label, in the order they were saved:
    ``[(rgb file name, [saved file names])]``; [] when none were recorded."""
    if _lines(os.path.join(unseen_dir, "unseen.txt")) is None:
        return []
    skip = _done(unseen_dir) | _done(unseen_dir, "discarded.txt")
    out, seen = [], set()
    for _, parts in _unseen_entries(unseen_dir):
        name = os.path.basename(parts[0])
        if name not in skip and name not in seen:
            seen.add(name)
            out.append((name, parts))
    return out


def discard(unseen_dir, names):
    """Throw selected frames away: their saved files (only those inside
    ``unseen_dir``) are removed and their names recorded in ``discarded.txt``.
    Returns the names discarded (those of ``names`` still pending)."""
    wanted = set(names)
    gone = []
    for name, parts in pending(unseen_dir):
        if name not in wanted:
            continue
        for p in parts[:2]:
            path = os.path.join(unseen_dir, p)
            if inside(path, unseen_dir) and os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
        gone.append(name)
    if gone:
        with open(os.path.join(unseen_dir, "discarded.txt"), "a", encoding="utf-8") as f:
            f.write("".join(n + "\n" for n in gone))
    return gone


def _index_of_tree(root):
    """basename -> path relative to ``root`` for every RGB frame under it."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(RGB_SUFFIX):
                found.setdefault(name, os.path.relpath(os.path.join(folder, name), root))
    return found


def label(unseen_dir, index, truth=None, labels=None, limit=None, names=None):
    """Label the saved unseen frames (only those named in ``names`` when given)
    and append them to ``index``. Returns the lines added."""
    if (truth is None) == (labels is None):
        raise LabelError("give exactly one of --truth ROOT (generated data) or --labels DIR (label PNGs)")
    if not os.path.exists(index):
        raise LabelError(f"{index}: the dataset index does not exist")
    base = os.path.dirname(os.path.abspath(index))
    entries = _unseen_entries(unseen_dir)
    done = _done(unseen_dir) | _done(unseen_dir, "discarded.txt")
    wanted = None if names is None else set(names)
    lines, names = [], []
    frames = _index_of_tree(truth) if truth else None
    for n, parts in entries:
        rgb_name = os.path.basename(parts[0])
        if rgb_name in done or rgb_name in names or (wanted is not None and rgb_name not in wanted):
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
