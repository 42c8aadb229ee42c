"""Labelling copies only what lies in the job's unseen folder (issue 19, finding 2): an
unseen list a worker wrote that names the state folder's token, a device or a link to a
secret never brings them into the Dataset (whose folder workers read)."""

import os

import pytest

from sedna.common.exceptions import LabelError
from sedna.core.labelling.ingest import label


def test_worker_written_paths_devices_and_links_are_never_copied_into_the_dataset(tmp_path):
    state, unseen, data, labels = (tmp_path / d for d in ("state", "unseen", "data", "labels"))
    for d in (state, unseen, data, labels):
        d.mkdir()
    (state / "token").write_text("admin-secret")
    index = data / "index.txt"
    index.write_text("")
    os.symlink(state / "token", unseen / "link.png")
    (unseen / "good.png").write_bytes(b"png")
    for name in ("tok.png", "zero.png", "link.png", "good.png"):
        (labels / (name[:-4] + "_label.png")).write_bytes(b"label")
    (unseen / "unseen.txt").write_text(f"tok.png {state / 'token'}\nzero.png /dev/zero\nlink.png\ngood.png\n")

    with pytest.raises(LabelError, match="link.png"):  # a link in the unseen folder: refused, named
        label(str(unseen), str(index), labels=str(labels))
    assert index.read_text() == ""  # nothing appended
    os.unlink(unseen / "link.png")
    (unseen / "unseen.txt").write_text(f"tok.png {state / 'token'}\nzero.png /dev/zero\ngood.png\n")
    lines = label(str(unseen), str(index), labels=str(labels))
    assert lines == [os.path.join("labelled", "good.png") + " " + os.path.join("labelled", "good_label.png")]
    copied = sorted(os.listdir(data / "labelled"))
    assert copied == ["good.png", "good_label.png"]
    assert all("admin-secret" not in (data / "labelled" / f).read_text(errors="replace") for f in copied)
