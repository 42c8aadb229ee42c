"""What the camera sees: ``/ui/jobs/{ns}/{name}/frames``, for any job whose samples are images.

* ``GET .../frames``: the last frames the inference worker served (its
  renderer's drawing of the prediction over the frame, the task that served
  it, the unseen flag and score; written by :mod:`sedna.core.labelling.previews`)
  and the gallery of saved unseen frames still to label, with checkboxes. A
  job whose samples are not images (a tabular job) gets no gallery;
* ``POST .../frames/label``: label the checked frames with label files already
  under the Dataset's folder (``mode=truth``) or in a folder the user names
  (``mode=labels``, ``labels=<folder>``), found by the job's declared naming,
  by :func:`sedna.core.labelling.label` (the code of ``sedna label``): the
  lines are appended to the Dataset's index, which starts the next round when
  the trigger's threshold is passed;
* ``POST .../frames/discard``: throw the checked frames away;
* ``GET .../frames/image?path=<file>``: a PNG of the job's ``outputDir``;
* ``GET .../frames/saved?name=<frame>``: a saved unseen frame itself (PNG or
  JPEG), the gallery's picture of a frame the worker drew no preview of.

The package's router puts every route behind the session
(:func:`.session.require_viewer`); POSTs check the form's CSRF token before
reading anything else. Which paths are allowed is :mod:`.frame_files`'.
"""

import os
import threading
import time
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from sedna.common.exceptions import LabelError, NotFound, NotRegularFile, SednaError
from sedna.common.regular_files import open_regular
from sedna.core.labelling import label
from sedna.core.labelling.previews import forget_unseen, latest, unseen_previews
from sedna.core.unseen_store import discard, pending, saved_file
from sedna.server.common import kind_of, runtime_of
from sedna.server.dashboard.frame_files import (FieldError, frame_files, image_path, labels_folder, selected_frames,
                                                shows_images)
from sedna.server.dashboard.render import esc, num, page
from sedna.server.dashboard.session import check_csrf, csrf_token, read_form_lists

BASE = "/ui/jobs/{ns}/{name}/frames"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}  # saved frames shown as they are
LABEL_FORM_BYTES = 512 * 1024  # a few hundred checked frame names
_changing = threading.Lock()    # one label/discard at a time: the index gets each line once

router = APIRouter()


def job_files(store, ns, name):
    """The job and its :class:`~.frame_files.FrameFiles` (NotFound for a missing job)."""
    job = store.get(kind_of("lifelonglearningjobs"), ns, name)
    try:
        dataset = store.get(kind_of("datasets"), ns, job["spec"]["dataset"]["name"])
    except (NotFound, KeyError, TypeError):
        dataset = None
    return job, frame_files(job, dataset)


def _files(request, ns, name):
    return job_files(runtime_of(request), ns, name)


def _base(ns, name):
    return BASE.format(ns=quote(ns, safe=""), name=quote(name, safe=""))


def _img(ns, name, files, folder_rel, alt, cls):
    rel = os.path.relpath(os.path.join(files.frames, folder_rel), files.output_dir)
    src = f"{_base(ns, name)}/image?path={quote(rel, safe='/')}"
    return f'<img src="{esc(src)}" alt="{esc(alt)}" class="{cls}">'


def _when(t):
    return time.strftime("%H:%M:%S", time.localtime(t)) if isinstance(t, (int, float)) else "–"


def _score(entry):
    if entry.get("score") is None:
        return ""
    thr = f" / {num(entry.get('threshold'), 2)}" if entry.get("threshold") is not None else ""
    return f'<span class="score" title="unseen score / threshold">{num(entry["score"], 2)}{thr}</span>'


def _latest_html(ns, name, files):
    frames = latest(files.frames)
    if not frames:
        return ('<p class="muted">No frame served yet: the inference worker writes a preview of every '
                f'frame under <code>{esc(files.frames)}</code> once a knowledge base is deployed.</p>')
    cards = []
    for e in frames:
        flag = ('<span class="badge s-Failed">unseen</span>' if e["unseen"]
                else '<span class="badge s-Ready">seen</span>')
        pic = (_img(ns, name, files, e["overlay"], "prediction over " + e["frame"], "overlay") if e["overlay"]
               else _img(ns, name, files, e["thumb"], e["frame"], "thumb"))
        cards.append(f"""<figure class="frame" data-frame="{esc(e['frame'])}">
{pic}
<figcaption><b class="task">{esc(e['task'] or '–')}</b> {flag} {_score(e)}<br>
<span class="muted">{esc(e['frame'])} · KB v{esc(e['kb_version'] if e['kb_version'] is not None else '–')} ·
{_when(e['time'])}</span></figcaption></figure>""")
    return f'<div class="frames latest">{"".join(cards)}</div>'


def _label_choices(files):
    wanted = esc(files.naming.describe())
    root = esc(files.data_root or "the Dataset's folder")
    return f"""<fieldset><legend>Labels from (files named <code>{wanted}</code>)</legend>
<label><input type="radio" name="mode" value="truth" checked> label files already under the Dataset's folder
<code>{root}</code></label><br>
<label><input type="radio" name="mode" value="labels"> label files in the folder
<input type="text" name="labels" size="50" placeholder="a folder inside the Dataset's folder or the outputDir"></label>
</fieldset>"""


def _saved_img(ns, name, frame):
    """The saved frame itself when the worker drew no preview of it (a PNG or JPEG), else a placeholder."""
    if not frame.lower().endswith(tuple(IMAGE_TYPES)):
        return '<span class="nothumb">no preview</span>'
    src = f"{_base(ns, name)}/saved?name={quote(frame, safe='')}"
    return f'<img src="{esc(src)}" alt="{esc(frame)}" class="thumb saved">'


def _gallery_html(request, ns, name, files):
    if files.unseen is None or files.naming is None:
        return f'<p class="muted">No unseen gallery: {esc(files.note)}.</p>'
    try:
        todo = pending(files.unseen)
    except LabelError as e:
        return f'<p class="error">{esc(e)}</p>'
    if not todo:
        return f'<p class="muted">No saved unseen frame to label in <code>{esc(files.unseen)}</code>.</p>'
    previews = unseen_previews(files.frames)
    cards = []
    for frame, _ in todo:
        p = previews.get(frame)
        pic = _img(ns, name, files, p["thumb"], frame, "thumb") if p else _saved_img(ns, name, frame)
        info = f"{_score(p)} <b class='task'>{esc(p['task'] or '')}</b>" if p else ""
        cards.append(f"""<label class="frame pick">{pic}
<input type="checkbox" name="frame" value="{esc(frame)}"> <span>{esc(frame)}</span><br>{info}</label>""")
    return f"""<form method="post" action="{esc(_base(ns, name))}/label" class="gallery">
<input type="hidden" name="csrf" value="{esc(csrf_token(request))}">
<p class="muted">{len(todo)} frame(s) the job did not recognise, saved in <code>{esc(files.unseen)}</code>.
Select some, then label them (their lines are appended to the Dataset's index) or discard them.</p>
<div class="frames">{"".join(cards)}</div>
{_label_choices(files)}
<button type="submit" name="action" value="label">Label selected</button>
<button type="submit" formaction="{esc(_base(ns, name))}/discard" class="danger">Discard selected</button>
</form>"""


def _message(request):
    q = request.query_params
    if q.get("labelled"):
        return f'<p class="ok" role="status">Labelled {esc(q["labelled"])} frame(s): appended to the index.</p>'
    if q.get("discarded"):
        return f'<p class="ok" role="status">Discarded {esc(q["discarded"])} frame(s).</p>'
    return ""


def _render(request, ns, name, files, error="", status=200):
    err = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    head = (f'<link rel="stylesheet" href="/ui/static/frames.css">\n<h1>What the camera sees · '
            f'<a href="{esc(_base(ns, name)[:-len("/frames")])}">{esc(ns)}/{esc(name)}</a></h1>\n{_message(request)}{err}')
    if not shows_images(files):
        body = (f'{head}<p class="muted" role="status">This job\'s samples are not images: there is no frame '
                'gallery. Its unseen samples are counted on the job\'s page.</p>')
    else:
        body = f"""{head}
<section><h2>Latest frames</h2>{_latest_html(ns, name, files)}</section>
<section><h2>Unseen frames</h2>{_gallery_html(request, ns, name, files)}</section>"""
    return page(request, f"{name}: what the camera sees", body, status=status)


@router.get(BASE)
def frames_page(ns: str, name: str, request: Request):
    _, files = _files(request, ns, name)
    return _render(request, ns, name, files)


@router.get("/ui/jobs/{ns}/{name}/robot")
def old_address(ns: str, name: str):
    """The page's earlier address."""
    return RedirectResponse(_base(ns, name), status_code=308)


@router.get(BASE + "/image")
def image(ns: str, name: str, request: Request, path: str = ""):
    _, files = _files(request, ns, name)
    try:
        real = image_path(files, path)
        fd = open_regular(real, follow_symlinks=False)
    except FieldError as e:
        raise HTTPException(400, str(e)) from None
    except (OSError, NotRegularFile):
        raise HTTPException(404, f"path: {path} is not a file of the job's outputDir") from None
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise HTTPException(413, f"path: {path} is over {MAX_IMAGE_BYTES} bytes")
    return _image_response(data, "image/png")


def _image_response(data, media_type):
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"})


@router.get(BASE + "/saved")
def saved_frame(ns: str, name: str, request: Request, frame: str = Query("", alias="name")):
    """A saved unseen frame (a PNG or JPEG of the unseen store, by its plain name)."""
    _, files = _files(request, ns, name)
    media = IMAGE_TYPES.get(os.path.splitext(frame)[1].lower())
    if files.unseen is None or media is None:
        raise HTTPException(400, "name: give a PNG or JPEG frame of this job's unseen store")
    try:
        with saved_file(files.unseen, frame) as f:
            data = f.read(MAX_IMAGE_BYTES + 1)
    except LabelError:
        raise HTTPException(404, f"name: {frame[:80]!r} is not a saved frame of this job") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise HTTPException(413, f"name: {frame[:80]!r} is over {MAX_IMAGE_BYTES} bytes")
    return _image_response(data, media)


async def _action(request, ns, name):
    """The checked form: CSRF first, then the job and the frames it names."""
    form = await read_form_lists(request, LABEL_FORM_BYTES)
    check_csrf(request, (form.get("csrf") or [""])[-1])
    _, files = await run_in_threadpool(_files, request, ns, name)
    if files.unseen is None or files.naming is None:
        raise HTTPException(400, f"frame: this job has no unseen frames to act on: {files.note}")
    return form, files


def _label(files, form):
    if not files.index or not os.path.isfile(files.index):
        raise FieldError("mode", "the job's Dataset has no local index file to append to")
    frames = selected_frames(form.get("frame"), [n for n, _ in pending(files.unseen)])
    mode = (form.get("mode") or [""])[-1]
    if mode == "truth":
        kw = {"tree": files.data_root}
    elif mode == "labels":
        kw = {"labels": labels_folder(files, (form.get("labels") or [""])[-1])}
    else:
        raise FieldError("mode", "must be truth (label files under the Dataset's folder) or labels (a folder)")
    lines = label(files.unseen, files.index, naming=files.naming, names=frames, **kw)
    if not lines:
        raise FieldError("labels", f"none of the selected frames has a label file ({files.naming.describe()}) there")
    forget_unseen(files.frames, frames)
    return len(lines)


def _discard(files, form):
    frames = selected_frames(form.get("frame"), [n for n, _ in pending(files.unseen)])
    gone = discard(files.unseen, frames)
    forget_unseen(files.frames, gone)
    return len(gone)


async def _change(request, ns, name, do, done_key):
    form, files = await _action(request, ns, name)

    def locked():
        with _changing:
            return do(files, form)
    try:
        n = await run_in_threadpool(locked)
    except (FieldError, SednaError, OSError) as e:  # LabelError, a file that cannot be copied (disk full)...
        msg = str(e) if isinstance(e, FieldError) else f"{(form.get('mode') or ['frame'])[-1]}: {e}"
        return _render(request, ns, name, files, error=msg, status=400)
    return RedirectResponse(f"{_base(ns, name)}?{done_key}={n}", status_code=303)


@router.post(BASE + "/label")
async def label_frames(ns: str, name: str, request: Request):
    return await _change(request, ns, name, _label, "labelled")


@router.post(BASE + "/discard")
async def discard_frames(ns: str, name: str, request: Request):
    return await _change(request, ns, name, _discard, "discarded")
