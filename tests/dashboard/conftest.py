"""Fixtures of the dashboard's tests: Debian's Chromium driven by Playwright, a
real ``sedna up`` after the robot job's toy-size two-round run, screenshots.

* ``browser_page``: a fresh page (its own cookies) in a headless Chromium,
  the one apt installs (``executable_path``: Playwright's own browser download
  cannot work here); the test is skipped, saying why, when either is missing;
* ``screenshot(page, name)``: saves ``build/screenshots/<name>.png`` (a reader
  can open them; the README's come from there);
* ``toy_robot_job`` (module scope): ``sedna demo --keep`` at toy size, the same
  run tests/robo/test_robo_demo.py checks, which leaves the control plane up on
  loopback after two rounds; a :class:`support.ctlplane.ControlPlane` bound to it;
* ``ui_page``: ``browser_page`` logged in to that control plane's dashboard.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from support.ctlplane import ControlPlane
from support.dashboard import login, token_of

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(REPO, "build", "screenshots")
JOB, NAMESPACE = "robo-demo", "default"
TOY = ("--frames", "12", "--epochs", "1", "--size", "32x64")   # as tests/robo/test_robo_demo.py


@pytest.fixture(scope="module")
def chromium_browser():
    """Chromium for one test module. Module scope, not session: Playwright's sync API keeps
    an asyncio loop running in this thread while it is started, and later tests call
    ``asyncio.run`` (which refuses to run inside a running loop)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package only)")
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian's Chromium is not installed: apt-get install -y chromium")
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium_browser):
    """A page of its own browser context: no cookie of another test."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: the whole page as ``build/screenshots/<name>.png``; returns the path."""
    def save(page, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return save


class ToyJob(ControlPlane):
    """The control plane ``sedna demo --keep`` left up (``url``, ``state_dir``,
    ``cli``, ``get``, ``workers`` as :class:`support.ctlplane.ControlPlane`), and the run's files."""

    def __init__(self, tmp, work, url):
        super().__init__(tmp)
        self.work, self.url = work, url
        self.port = int(url.rsplit(":", 1)[1])
        self.state_dir = os.path.join(work, "state")
        self.job, self.namespace = JOB, NAMESPACE
        self.kb = os.path.join(work, "output", JOB, "kb")
        self.output = os.path.join(work, "output", JOB)

    @property
    def token(self):
        return token_of(self)

    @property
    def ui(self):
        return self.url + "/ui/"

    def stop(self):
        self.cli("down")


@pytest.fixture(scope="module")
def toy_robot_job(tmp_path_factory):
    """The robot job after two rounds at toy size, its control plane still up."""
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    tmp = str(tmp_path_factory.mktemp("toy-robot"))
    work = os.path.join(tmp, "demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SEDNA_"))}
    p = subprocess.run([sys.executable, "-m", "sedna.cli", "demo", "--workdir", work, *TOY, "--keep"],
                       capture_output=True, text=True, timeout=900, env=env)
    found = re.search(r"control plane on (http://127\.0\.0\.1:\d+)", p.stdout)
    job = ToyJob(tmp, work, found.group(1)) if found else None
    try:
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        assert job is not None and job.healthy(), p.stdout[-2000:]
        yield job
    finally:
        if job is not None:
            job.stop()


@pytest.fixture
def ui_page(browser_page, toy_robot_job):
    """``browser_page`` with a dashboard session on ``toy_robot_job``."""
    return login(browser_page, toy_robot_job)
