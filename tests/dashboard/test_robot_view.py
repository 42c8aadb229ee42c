"""What the camera sees for the robot job, in Debian's Chromium against a real ``sedna up`` after
the robot job's toy-size two-round run (``toy_robot_job``): the latest frames
with their overlay and serving task, the unseen gallery, and labelling from
the browser, which appends to the Dataset's index and starts the next round."""

import json
import os
import re
import shutil
import urllib.request

import yaml
from support.ctlplane import last_round

SHIFTED = ("real/zurich", "real/bremennight")  # scenes the toy job never trained on
LOADED = ("img => img.complete ? img.naturalWidth > 0"
          " : new Promise(done => { img.onload = () => done(img.naturalWidth > 0); img.onerror = () => done(false); })")


def api_job(job):
    req = urllib.request.Request(
        f"{job.url}/apis/sedna.io/v1alpha1/namespaces/{job.namespace}/lifelonglearningjobs/{job.job}",
        headers={"Authorization": "Bearer " + job.token})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def stream_new_scenes(job, tmp_path, per_scene=10):
    """Render frames of scenes the job never saw, add their truth to the demo's
    data tree (not to its index) and put them in front of the camera with their
    colours inverted: the toy job's one-epoch models tell a new city from a known
    one only now and then, a camera whose colours went wrong every time."""
    from PIL import Image, ImageOps

    from sedna.examples.robo import datagen

    extra = tmp_path / "extra"
    info = datagen.generate(extra, split_counts={d: {"train": 0, "val": 0, "test": per_scene} for d in SHIFTED},
                            size=(32, 64), seed=11, domains=list(SHIFTED), heldout=None)
    data_root = os.path.join(job.work, "segmentation_data")
    for sub in ("leftImg8bit", "depth", "gtFine"):
        shutil.copytree(extra / sub, os.path.join(data_root, sub), dirs_exist_ok=True)
    for d in SHIFTED:
        for rgb in info["files"][d]["test"]:
            rgb, depth, _ = datagen.frame_paths(str(extra), rgb)
            # the depth first, then the RGB file the worker starts on, written whole and then named
            shutil.copy2(extra / depth, os.path.join(job.work, "camera"))
            shown = os.path.join(job.work, "camera", os.path.basename(rgb))
            with Image.open(extra / rgb) as im:
                ImageOps.invert(im.convert("RGB")).save(shown + ".part", format="PNG")
            os.replace(shown + ".part", shown)


def trigger_at_two_frames(job, tmp_path):
    """The demo trains at > 20 new samples; two labelled frames (one or two of
    them train samples at trainProb 0.8) must be enough here."""
    with open(os.path.join(job.work, "manifests", "job.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    doc["spec"]["trainSpec"]["trigger"]["condition"]["threshold"] = 0
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(doc))
    job.cli("apply", "-f", str(path), check=True)


def test_the_robot_page_shows_frames_and_labelling_two_starts_the_next_round(
        ui_page, toy_robot_job, screenshot, wait_for, tmp_path):
    job, page = toy_robot_job, ui_page
    robot = f"{job.url}/ui/jobs/{job.namespace}/{job.job}/frames"
    page.goto(robot)
    latest = page.locator(".frames.latest figure.frame")
    assert latest.count() > 0  # the toy run's stream, each with its overlay and serving task
    first = latest.first
    assert first.locator("img.overlay").evaluate(LOADED)
    assert first.locator(".task").inner_text().endswith(".model")

    stream_new_scenes(job, tmp_path)
    trigger_at_two_frames(job, tmp_path)

    def gallery():
        page.goto(robot)
        return page.locator("form.gallery img.thumb").count() >= 2
    wait_for(gallery, timeout=180, what="the inference worker to flag two new frames as unseen (with previews)")
    picks = page.locator("form.gallery label.frame")
    assert picks.first.locator("img.thumb").evaluate(LOADED)
    assert re.search(r"\d+\.\d\d / \d+\.\d\d", picks.first.locator(".score").inner_text())
    chosen = [picks.nth(i).locator("input[name=frame]").get_attribute("value") for i in (0, 1)]
    for i in (0, 1):
        picks.nth(i).locator("input[name=frame]").check()
    screenshot(page, "robot")

    index = os.path.join(job.work, "segmentation_data", "data.txt")
    before = open(index, encoding="utf-8").read()
    round_before = last_round(api_job(job)).get("round")
    page.locator("form.gallery input[name=mode][value=truth]").check()
    page.locator("form.gallery button[value=label]").click()
    page.wait_for_url(re.compile(r".*/frames\?labelled=2$"))
    assert "Labelled 2 frame(s)" in page.locator("[role=status]").inner_text()

    added = open(index, encoding="utf-8").read()[len(before):].splitlines()
    assert [os.path.basename(line.split()[0]) for line in added] == chosen
    assert all(len(line.split()) == 3 for line in added)  # rgb depth label, as `sedna label` writes
    for name in chosen:
        assert page.locator(f'form.gallery input[name=frame][value="{name}"]').count() == 0
    wait_for(lambda: (last_round(api_job(job)).get("round") or 0) > round_before, timeout=120,
             what="the labelled frames to start the next round")
    assert any(w["stage"] == "train" and w["round"] == round_before + 1 for w in job.workers())
