"""The robot job on the labelling loop of the core: its inference previews
(PreviewRing with the robot's renderer), labelling selected frames with its
Cityscapes naming (label names=..., discard), on real files, and its page."""

import json
import os
import shutil
import stat

import numpy as np
import pytest

pytest.importorskip("PIL")

from sedna.examples.robo import datagen  # noqa: E402
from sedna.core.labelling import label  # noqa: E402
from sedna.core.labelling.previews import PreviewRing, latest, unseen_previews  # noqa: E402
from sedna.core.unseen_store import discard, pending  # noqa: E402
from sedna.examples.robo.plugins import FRAME_SUFFIX, LABEL_SUFFIXES, NAMING, RoboRenderer  # noqa: E402


def _frame(h=48, w=96, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8), rng.integers(0, 19, (h // 2, w // 2), dtype=np.uint8)


def test_ring_keeps_the_last_frames_privately_and_a_new_worker_continues(tmp_path):
    from PIL import Image

    folder = str(tmp_path / "frames")
    ring = PreviewRing(folder, RoboRenderer(), size=5)
    for i in range(8):
        rgb, lab = _frame(seed=i)
        ring.add(f"aachen_{i:06d}_leftImg8bit.png", rgb, lab, task="real/aachen", unseen=i % 2 == 1,
                 score=float(i), threshold=3.5, kb_version=1, when=1000.0 + i)
    shown = latest(folder)
    assert [e["frame"] for e in shown] == [f"aachen_{i:06d}_leftImg8bit.png" for i in (7, 6, 5, 4, 3)]
    assert shown[0]["task"] == "real/aachen" and shown[0]["unseen"] is True and shown[0]["score"] == 7.0
    files = os.listdir(os.path.join(folder, "latest"))
    assert len(files) == 15 and not [f for f in files if f.startswith(".")]  # 5 x (json, thumb, overlay)
    for name in files:
        assert stat.S_IMODE(os.stat(os.path.join(folder, "latest", name)).st_mode) == 0o600
    with Image.open(os.path.join(folder, shown[0]["thumb"])) as thumb:
        assert thumb.width <= 160 and thumb.height <= 80
    with Image.open(os.path.join(folder, shown[0]["overlay"])) as ov:
        assert ov.size == (48, 24)  # drawn at the prediction's size
    previews = unseen_previews(folder)
    assert sorted(previews) == [f"aachen_{i:06d}_leftImg8bit.png" for i in (1, 3, 5, 7)]
    assert previews["aachen_000003_leftImg8bit.png"]["score"] == 3.0
    again = PreviewRing(folder, RoboRenderer(), size=5)
    again.add("next_000001_leftImg8bit.png", *_frame(seed=9))
    assert latest(folder)[0]["frame"] == "next_000001_leftImg8bit.png"
    assert latest(folder)[0]["seq"] == 9


def test_reader_skips_what_the_worker_did_not_write(tmp_path):
    folder = str(tmp_path / "frames")
    ring = PreviewRing(folder, RoboRenderer())
    ring.add("ok_000001_leftImg8bit.png", *_frame())
    d = os.path.join(folder, "latest")
    with open(os.path.join(d, "000000000005.json"), "w") as f:
        f.write("not json")
    with open(os.path.join(d, "000000000006.json"), "w") as f:
        json.dump({"frame": "../../etc/passwd", "unseen": True}, f)
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps({"frame": "secret_000001_leftImg8bit.png"}))
    os.symlink(outside, os.path.join(d, "000000000007.json"))
    os.mkfifo(os.path.join(d, "000000000008.json"))
    assert [e["frame"] for e in latest(folder)] == ["ok_000001_leftImg8bit.png"]


@pytest.fixture
def unseen_job(tmp_path):
    """A generated data set (the truth), its index, and three of its frames saved as unseen."""
    root = tmp_path / "data"
    info = datagen.generate(root, frames_per_domain=2, size=(24, 48), seed=5, split_counts={"train": 2})
    index = root / "data.txt"
    before = index.read_text()
    unseen = tmp_path / "unseen"
    unseen.mkdir()
    frames = [p for d in info["files"] for p in info["files"][d]["train"]][:3]
    lines = []
    for rgb in frames:
        depth = datagen.frame_paths(str(root), rgb)[1]
        for p in (rgb, depth):
            shutil.copy2(root / p, unseen / os.path.basename(p))
        lines.append(f"{os.path.basename(rgb)} {os.path.basename(depth)}\n")
    (unseen / "unseen.txt").write_text("".join(lines))
    return root, index, before, unseen, [os.path.basename(f) for f in frames]


def test_labelling_selected_frames_appends_only_those(unseen_job):
    root, index, before, unseen, names = unseen_job
    added = label(str(unseen), str(index), naming=NAMING, tree=str(root), names=names[:2])
    assert len(added) == 2
    assert index.read_text() == before + "".join(line + "\n" for line in added)
    assert [n for n, _ in pending(str(unseen))] == names[2:]
    assert label(str(unseen), str(index), naming=NAMING, tree=str(root), names=names[:2]) == []


def test_discarded_frames_are_removed_and_never_labelled(unseen_job, tmp_path):
    root, index, before, unseen, names = unseen_job
    victim = tmp_path / "precious.png"
    victim.write_bytes(b"keep me")
    with open(unseen / "unseen.txt", "a") as f:
        f.write(f"../{victim.name} ../{victim.name}\n")
    assert discard(str(unseen), [names[0], victim.name]) == [names[0]]  # a path is no saved sample
    assert victim.read_bytes() == b"keep me"  # outside the unseen folder: not removed
    assert not (unseen / names[0]).exists()
    assert (unseen / names[1]).exists()
    added = label(str(unseen), str(index), naming=NAMING, tree=str(root))
    assert [line.split()[0].endswith(names[0]) for line in added] == [False, False]
    assert [n for n, _ in pending(str(unseen))] == []


# ------------------------------------------------ the dashboard's robot page, over real HTTP
class _Browser:
    """A cookie-keeping HTTP client of a real `sedna up` (no redirects followed)."""

    def __init__(self, url):
        import http.cookiejar
        import urllib.request

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **kw):
                return None

        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect)

    def call(self, method, path, form=None):
        import urllib.error
        import urllib.parse
        import urllib.request

        data = urllib.parse.urlencode(form or {}, doseq=True).encode() if method == "POST" else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def login(self, token):
        status, headers, _ = self.call("POST", "/ui/login", {"token": token, "next": "/ui/"})
        assert status == 303, "the login form did not accept the admin token"
        return self

    def csrf(self, path):
        import re

        status, _, body = self.call("GET", path)
        assert status == 200, body
        return re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()


@pytest.fixture
def robot_plane(control_plane, unseen_job, tmp_path):
    """A real `sedna up` with a robot-shaped job (its trigger never fires): its
    inference previews under outputDir, three saved unseen frames, a session."""
    from support.ctlplane import manifests, write_yaml

    root, index, before, unseen, names = unseen_job
    out = tmp_path / "output"
    docs = manifests(str(index), str(out), str(tmp_path / "camera"), str(tmp_path), threshold=10 ** 6,
                     extra_env={"FRAME_SUFFIX": FRAME_SUFFIX, "LABEL_SUFFIX": ",".join(LABEL_SUFFIXES)})
    control_plane.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs), check=True)
    ring = PreviewRing(str(out / "deploy" / "frames"), RoboRenderer())
    for i, n in enumerate(names):
        ring.add(n, *_frame(seed=i), task="real/aachen", unseen=True, score=4.0 + i, threshold=3.0, kb_version=1)
    token = open(os.path.join(control_plane.state_dir, "token")).read().strip()
    job = "/ui/jobs/default/digits-ll/frames"
    return dict(browser=_Browser(control_plane.url).login(token), job=job, out=out, index=index, before=before,
                unseen=unseen, names=names, root=root)


def test_images_are_served_only_from_inside_the_outputDir(robot_plane, tmp_path):
    b, job, out = robot_plane["browser"], robot_plane["job"], robot_plane["out"]
    status, headers, body = b.call("GET", job)
    assert status == 200 and body.count(b'class="overlay"') == 3 and body.count(b'name="frame"') == 3
    status, headers, body = b.call("GET", f"{job}/image?path=deploy/frames/latest/000000000001.thumb.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    os.symlink(tmp_path / "secret.png", out / "link.png")
    os.mkfifo(out / "fifo.png")
    for path, code in (("../secret.png", 400), ("deploy/../../secret.png", 400),
                       (str(tmp_path / "secret.png"), 400), ("link.png", 404), ("fifo.png", 404),
                       ("job.yaml", 400), ("deploy/frames/latest/none.png", 404)):
        status, _, body = b.call("GET", f"{job}/image?path={path}")
        assert (status, b"secret" in body) == (code, False), path
    anonymous = _Browser(b.url)
    status, headers, _ = anonymous.call("GET", f"{job}/image?path=deploy/frames/latest/000000000001.thumb.png")
    assert status == 303 and headers["Location"].startswith("/ui/login")


def test_label_and_discard_without_csrf_change_nothing(robot_plane):
    b, job, unseen, names = robot_plane["browser"], robot_plane["job"], robot_plane["unseen"], robot_plane["names"]
    files = sorted(os.listdir(unseen))
    for action in ("label", "discard"):
        for csrf in ({}, {"csrf": "forged"}):
            status, _, body = b.call("POST", f"{job}/{action}", dict(csrf, frame=names[:2], mode="truth"))
            assert status == 403 and b"csrf" in body, action
    anonymous = _Browser(b.url)
    status, _, _ = anonymous.call("POST", f"{job}/label", {"frame": names[:2], "mode": "truth"})
    assert status == 403
    assert robot_plane["index"].read_text() == robot_plane["before"]
    assert sorted(os.listdir(unseen)) == files


def test_the_form_labels_and_discards_checked_frames_and_names_bad_fields(robot_plane, tmp_path):
    b, job, unseen, names = robot_plane["browser"], robot_plane["job"], robot_plane["unseen"], robot_plane["names"]
    csrf = b.csrf(job)
    for form, field in (({"frame": names[:1], "mode": "guess"}, b"mode:"),
                        ({"frame": ["../../etc/passwd"], "mode": "truth"}, b"frame:"),
                        ({"mode": "truth"}, b"frame:"),
                        ({"frame": names[:1], "mode": "labels", "labels": str(tmp_path)}, b"labels:"),
                        ({"frame": names[:1], "mode": "labels", "labels": "/etc"}, b"labels:")):
        status, _, body = b.call("POST", f"{job}/label", dict(form, csrf=csrf))
        assert status == 400 and field in body, form
    assert robot_plane["index"].read_text() == robot_plane["before"]
    status, headers, _ = b.call("POST", f"{job}/label", {"csrf": csrf, "frame": names[:2], "mode": "truth"})
    assert status == 303 and headers["Location"].endswith("?labelled=2")
    added = robot_plane["index"].read_text()[len(robot_plane["before"]):].splitlines()
    assert [os.path.basename(line.split()[0]) for line in added] == names[:2]
    status, headers, _ = b.call("POST", f"{job}/discard", {"csrf": csrf, "frame": names[2:]})
    assert status == 303 and headers["Location"].endswith("?discarded=1")
    assert not (unseen / names[2]).exists()
    _, _, body = b.call("GET", job)
    assert b'name="frame"' not in body and b"No saved unseen frame" in body


def test_the_form_labels_from_a_folder_of_label_pngs(robot_plane):
    b, job, names, root = robot_plane["browser"], robot_plane["job"], robot_plane["names"], robot_plane["root"]
    csrf = b.csrf(job)
    folder = root / "my-labels"
    folder.mkdir()
    status, _, body = b.call("POST", f"{job}/label", {"csrf": csrf, "frame": names[:1], "mode": "labels",
                                                      "labels": "my-labels"})
    assert status == 400 and b"labels: none of the selected frames has a label file" in body
    stem = names[0][:-len("_leftImg8bit.png")]
    shutil.copy2(root / datagen.frame_truth(str(root), names[0]), folder / f"{stem}_gtFine_labelTrainIds.png")
    status, headers, _ = b.call("POST", f"{job}/label", {"csrf": csrf, "frame": names[:2], "mode": "labels",
                                                         "labels": str(folder)})
    assert status == 303 and headers["Location"].endswith("?labelled=1")
    added = robot_plane["index"].read_text()[len(robot_plane["before"]):].splitlines()
    assert added == [f"labelled/{names[0]} labelled/{stem}_disparity.png labelled/{stem}_gtFine_labelTrainIds.png"]
    _, _, body = b.call("GET", job)
    assert body.count(b'name="frame"') == 2  # the frame without a label PNG stays in the gallery
