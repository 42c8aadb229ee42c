"""Labelling: the annotator's step of the loop, for any job whose samples are files.

The inference worker saved the samples it did not recognise in the unseen
store (:mod:`sedna.core.unseen_store`). :func:`label`
attaches a label file to each, found by the job's naming
(:class:`~sedna.core.labelling.naming.LabelNaming`), and appends one line per
sample to the Dataset's index: the sample's files then its label, relative to
the index's folder (what ``TxtDataParse`` reads back as ``x`` and ``y``).
Appending is what starts the next training round.

Two places a label may be:

* ``tree=ROOT`` (the Dataset's folder): label files already under ROOT, in
  any sub-folder; the line points at them where they are, and at the sample's
  own files where ROOT holds them too (generated data sets), else at copies
  under ``<index folder>/labelled/``;
* ``labels=DIR``: a folder of label files; the sample's files and its label
  are copied under ``<index folder>/labelled/``.

A sample without a label file is left for a later run. Labelled samples are
remembered in the store (``labelled.txt``), so nothing is appended twice.
"""

import os
import stat

from sedna.common.atomic_files import temp_name
from sedna.common.exceptions import LabelError
from sedna.common.regular_files import open_regular
from sedna.core.labelling.naming import LabelNaming
from sedna.core.unseen_store import (MAX_SAMPLE_BYTES, mark_labelled, pending, saved_file,
                                                       unseen_entries)

LABELLED_DIR = "labelled"
MAX_TREE_FILES = 500_000   # files looked at under a Dataset's folder


def _tree(root, skip):
    """``{file name: path relative to root}`` of the regular files under ``root``
    (the first in sorted order wins), not looking into ``skip`` folders."""
    found, seen = {}, 0
    skip = {os.path.realpath(s) for s in skip if s}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(folder, d)) not in skip)
        for name in sorted(files):
            seen += 1
            if seen > MAX_TREE_FILES:
                raise LabelError(f"{root}: over {MAX_TREE_FILES} files; name a folder of label files instead")
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                found.setdefault(name, os.path.relpath(path, root))
    return found


def _copy(src_file, dst):
    """Write the open binary ``src_file`` at ``dst`` by rename (read up to the bound)."""
    data = src_file.read(MAX_SAMPLE_BYTES + 1)
    if len(data) > MAX_SAMPLE_BYTES:
        raise LabelError(f"{src_file.name}: over {MAX_SAMPLE_BYTES} bytes")
    tmp = temp_name(dst)
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)
    return dst


def _open_label(path):
    try:
        fd = open_regular(path, follow_symlinks=False)
    except OSError as e:
        raise LabelError(f"{path}: {e.strerror or e}") from None
    return os.fdopen(fd, "rb")


class _Place:
    """Where labels are looked for, and how a sample's line is made from them."""

    def __init__(self, unseen_dir, index, naming, tree, labels):
        self.unseen, self.naming = unseen_dir, naming
        self.base = os.path.dirname(os.path.abspath(index))
        self.out = os.path.join(self.base, LABELLED_DIR)
        self.tree_root = tree
        self.files = _tree(tree, [unseen_dir, self.out]) if tree else None
        self.labels = labels

    def label_of(self, frame):
        for name in self.naming.label_names(frame):
            if self.files is not None:
                if name in self.files:
                    return os.path.join(self.tree_root, self.files[name])
            elif os.path.isfile(os.path.join(self.labels, name)):
                return os.path.join(self.labels, name)
        return None

    def line(self, parts, label_path):
        os.makedirs(self.out, exist_ok=True)
        paths = []
        for p in parts:
            if self.files is not None and p in self.files:
                paths.append(os.path.join(self.tree_root, self.files[p]))
            else:
                with saved_file(self.unseen, p) as f:
                    paths.append(_copy(f, os.path.join(self.out, p)))
        if self.files is not None:
            paths.append(label_path)
        else:
            with _open_label(label_path) as f:
                paths.append(_copy(f, os.path.join(self.out, os.path.basename(label_path))))
        return " ".join(os.path.relpath(p, self.base) for p in paths)


def _append(index, lines):
    """One write at the end of the index (the index watcher sees whole lines); a
    FIFO or folder there is refused, never waited on."""
    try:
        fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise LabelError(f"{index}: cannot append to the dataset index: {e.strerror or e}") from None
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LabelError(f"{index}: the dataset index is not a regular file")
        f.write("".join(line + "\n" for line in lines))


def label(unseen_dir, index, *, naming=None, tree=None, labels=None, limit=None, names=None):
    """Label the pending unseen samples of ``unseen_dir`` (only those named in
    ``names`` when given) and append their lines to ``index``; returns the lines."""
    if (tree is None) == (labels is None):
        raise LabelError("give exactly one place for the labels: the Dataset's folder or a folder of label files")
    if not os.path.isfile(index):
        raise LabelError(f"{index}: the dataset index does not exist")
    if unseen_entries(unseen_dir) is None:
        raise LabelError(f"{os.path.join(unseen_dir, 'unseen.txt')}: no unseen samples recorded "
                         "(has the inference worker run?)")
    place = _Place(unseen_dir, index, naming or LabelNaming(), tree, labels)
    wanted = None if names is None else set(names)
    lines, done = [], []
    for name, parts in pending(unseen_dir):
        if wanted is not None and name not in wanted:
            continue
        found = place.label_of(name)
        if found is None:
            continue  # not labelled yet: left for a later run
        lines.append(place.line(parts, found))
        done.append(name)
        if limit and len(lines) >= limit:
            break
    if lines:
        _append(index, lines)
        mark_labelled(unseen_dir, done)
    return lines
