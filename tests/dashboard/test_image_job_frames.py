"""The labelling loop in the dashboard for an image job that is not the robot's:
generated ``img_0001.png`` frames whose labels are ``img_0001_mask.png``, a real
``sedna up``, Debian's Chromium. The gallery shows the frames the inference
side saved as unseen, and labelling from the browser appends the job's own
names to the Dataset's index; a job whose samples are not images gets no gallery."""

import copy
import os
import re

import numpy as np
import pytest
from support.ctlplane import manifests, write_yaml
from support.dashboard import login

pytest.importorskip("PIL")

LOADED = ("img => img.complete ? img.naturalWidth > 0"
          " : new Promise(done => { img.onload = () => done(img.naturalWidth > 0); img.onerror = () => done(false); })")
FRAMES = ("img_0101.png", "img_0102.png", "img_0103.png", "img_0104.png")  # the last without a preview


def _picture(path, seed, shape=(40, 80)):
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, shape + (3,), dtype=np.uint8)).save(path)


def _image_job(tmp_path):
    """The Dataset (two labelled frames, an index), masks of the new frames under
    its folder, the camera's frames saved as unseen and previewed by the core."""
    from sedna.core.labelling.previews import PreviewRing, frames_dir
    from sedna.core.labelling.render import renderer
    from sedna.core.unseen_store import save_unseen
    from sedna.datasources import BaseDataSource

    data, camera, results = tmp_path / "data", tmp_path / "camera", tmp_path / "results"
    for d in (data / "annotations", camera, results):
        d.mkdir(parents=True)
    for i in (1, 2):
        _picture(data / f"img_000{i}.png", i)
        _picture(data / f"img_000{i}_mask.png", 10 + i)
    (data / "index.txt").write_text("img_0001.png img_0001_mask.png\nimg_0002.png img_0002_mask.png\n")
    for i, name in enumerate(FRAMES):
        _picture(camera / name, 20 + i)
        _picture(data / "annotations" / name.replace(".png", "_mask.png"), 30 + i)
    samples = BaseDataSource(data_type="test")
    samples.x = np.array([str(camera / n) for n in FRAMES])
    save_unseen(samples, str(results / "unseen"))
    ring = PreviewRing(frames_dir(tmp_path / "output" / "deploy"), renderer("image"))
    for i, name in enumerate(FRAMES[:3]):
        mask = np.random.default_rng(i).integers(0, 4, (20, 40), dtype=np.uint8)
        ring.add(name, str(camera / name), mask, task="scene-a", unseen=True, score=2.0 + i, threshold=1.5,
                 kb_version=1)
    return data, camera, results


def _tabular_job(tmp_path, docs):
    """A second job whose unseen samples are rows (an .npz batch), not files."""
    from sedna.core.unseen_store import save_unseen
    from sedna.datasources import BaseDataSource

    tab = tmp_path / "tab"
    (tab / "results").mkdir(parents=True)
    (tab / "index.txt").write_text("")
    rows = BaseDataSource(data_type="test")
    rows.x = np.zeros((4, 3))
    save_unseen(rows, str(tab / "results" / "unseen"))
    out = copy.deepcopy(docs)
    out[0]["metadata"]["name"], out[0]["spec"]["url"] = "tab", str(tab / "index.txt")
    out[1]["metadata"]["name"], out[1]["spec"]["dataset"]["name"] = "tabular-ll", "tab"
    out[1]["spec"]["outputDir"] = str(tab / "output")
    env = out[1]["spec"]["deploySpec"]["template"]["spec"]["containers"][0]["env"]
    for e in env:
        if e["name"] == "unseen_save_url":
            e["value"] = str(tab / "results" / "unseen")
    return out


def test_an_image_job_with_its_own_naming_is_labelled_from_the_browser(
        control_plane, browser_page, screenshot, tmp_path):
    data, camera, results = _image_job(tmp_path)
    docs = manifests(str(data / "index.txt"), str(tmp_path / "output"), str(camera), str(results),
                     threshold=10 ** 6, extra_env={"LABEL_SUFFIX": "_mask.png"})
    control_plane.cli("apply", "-f", write_yaml(str(tmp_path / "job.yaml"), docs + _tabular_job(tmp_path, docs)),
                      check=True)
    page = login(browser_page, control_plane)

    page.goto(f"{control_plane.url}/ui/jobs/default/digits-ll")
    page.click("text=What the camera sees")
    assert "What the camera sees" in page.locator("h1").inner_text()
    latest = page.locator(".frames.latest figure.frame")
    assert latest.count() == 3 and latest.first.locator("img.overlay").evaluate(LOADED)
    picks = page.locator("form.gallery label.frame")
    assert [picks.nth(i).locator("input[name=frame]").get_attribute("value") for i in range(4)] == list(FRAMES)
    assert picks.first.locator("img.thumb").evaluate(LOADED)
    assert picks.nth(3).locator("img.thumb.saved").evaluate(LOADED)  # no preview: the saved frame itself
    assert "<frame>_mask.png" in page.locator("form.gallery legend").inner_text()
    for name in FRAMES[:2]:
        page.locator(f'form.gallery input[name=frame][value="{name}"]').check()
    screenshot(page, "image-job-frames")
    before = (data / "index.txt").read_text()
    page.locator("form.gallery input[name=mode][value=truth]").check()
    page.locator("form.gallery button[value=label]").click()
    page.wait_for_url(re.compile(r".*/frames\?labelled=2$"))
    assert "Labelled 2 frame(s)" in page.locator("[role=status]").inner_text()
    added = (data / "index.txt").read_text()[len(before):].splitlines()
    assert added == [f"labelled/{n} annotations/{n[:-4]}_mask.png" for n in FRAMES[:2]]
    for n in FRAMES[:2]:
        assert (data / "labelled" / n).read_bytes() == (camera / n).read_bytes()
    assert page.locator("form.gallery input[name=frame]").count() == 2  # the others wait

    # the saved frames are served by plain name only, never a link or a path out of the unseen store
    (tmp_path / "token").write_text("secret")
    os.symlink(tmp_path / "token", results / "unseen" / "link.png")
    saved = f"{control_plane.url}/ui/jobs/default/digits-ll/frames/saved?name="
    assert page.request.get(saved + FRAMES[3]).body() == (camera / FRAMES[3]).read_bytes()
    for bad in ("link.png", "..%2Ftoken", "%2Fetc%2Fpasswd", "unseen.txt"):
        response = page.request.get(saved + bad)
        assert response.status in (400, 404) and b"secret" not in response.body(), bad

    page.goto(f"{control_plane.url}/ui/jobs/default/tabular-ll")
    assert page.locator("text=What the camera sees").count() == 0
    page.goto(f"{control_plane.url}/ui/jobs/default/tabular-ll/frames")
    assert "not images" in page.locator("main").inner_text()
    assert page.locator("form.gallery, .frames").count() == 0
