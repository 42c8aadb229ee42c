"""``sedna quickstart|demo|label``: the examples that ship with sedna."""

import contextlib
import os
import sys

from sedna.cli import UserError


def _cmd_quickstart(args):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UserError("quickstart needs scikit-learn: pip install 'sedna[sklearn]'") from None
    from sedna.common.log import setup  # lazy: keeps `sedna` start-up light
    from sedna.examples.digits import DOMAINS, run_quickstart  # lazy: the example's extra

    for d in (args.unseen, *args.seen):
        if d not in DOMAINS:
            raise UserError(f"unknown domain {d!r}; domains: {', '.join(DOMAINS)}")
    if args.unseen in args.seen:
        raise UserError(f"--unseen {args.unseen!r} is also in --seen")
    setup(level="WARNING")
    out = os.path.abspath(args.output)
    os.makedirs(out, exist_ok=True)
    print(f"lifelong learning on handwritten digits: round 1 learns {', '.join(args.seen)}; "
          f"round 2 meets {args.unseen}, never seen before")
    run_quickstart(out, seen=tuple(args.seen), unseen=args.unseen)
    print(f"everything written under {out}")
    return 0


def _demo_size(text):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size {text!r}: expected HxW, e.g. 96x192") from None
    if h % 32 or w % 32:
        raise UserError(f"--size {text}: height and width must be multiples of 32")
    return h, w


def _cmd_demo_manifests(args):
    """``sedna demo --manifests DIR``: the shipped templates, filled in for a demo under --workdir,
    and the frames they point at, rendered there."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise UserError("rendering the demo's frames needs pillow: pip install 'sedna[robo]'") from None
    from sedna.examples.robo.demo import HERE, IMAGE, write_manifests  # lazy: the example's extra

    work = os.path.abspath(args.workdir)
    size = _demo_size(args.size)
    if args.frames < 1:
        raise UserError("--frames must be >= 1")
    try:
        paths = write_manifests(args.manifests, work, epochs=args.epochs, size=size)
        data, round1, camera = _render_demo_frames(work, args.frames, size)
    except OSError as e:
        raise UserError(f"--manifests {args.manifests}: {e.strerror or e}") from None
    print(f"wrote {paths[0]} and {paths[1]} (outputDir {work}/output/robo-demo)")
    print(f"rendered the frames under {os.path.dirname(data)}; the Dataset's index {data} is empty: "
          "rounds start when lines are appended to it")
    print(f"to run them: sedna up --image {IMAGE}={HERE}")
    print(f"             sedna apply -f {paths[0]} -f {paths[1]}")
    print(f"             cat {round1} >> {data}   # round 1: the seen scenes' frames")
    print(f"camera frames for the inference worker: the lines of {camera} (copy each frame's depth, then its "
          f"rgb file, into {work}/camera)")
    return 0


def _render_demo_frames(work, frames, size):
    """Render the seen scenes' training frames and every scene's camera frames under
    ``work/segmentation_data`` (the Dataset of the written manifests); the index starts
    empty. Returns (the index, round 1's lines, the camera frames' lines)."""
    from sedna.examples.robo import datagen  # lazy: the example's extra

    root = os.path.join(work, "segmentation_data")
    counts = {d: {"train": frames, "val": 10} for d in datagen.SEEN}
    counts[datagen.HELDOUT] = {"train": 0, "val": 10}
    info = datagen.generate(root, split_counts=counts, size=size, domains=[*datagen.SEEN, datagen.HELDOUT],
                            splits=("train", "val"))
    index = info["index"]
    open(index["data.txt"], "w").close()  # lines appended to it start rounds
    return index["data.txt"], index["train_seen.txt"], index["val_all.txt"]


def _cmd_demo(args):
    if args.manifests:
        return _cmd_demo_manifests(args)
    try:
        import PIL  # noqa: F401
        import torch  # noqa: F401
        import fastapi  # noqa: F401
    except ImportError as e:
        raise UserError(f"the demo needs {e.name}: pip install torch==2.13.0 && pip install 'sedna[robo,server]'") \
            from None
    from sedna.examples.robo.demo import DemoError, run_demo  # lazy: the example's extra

    h, w = _demo_size(args.size)
    if args.frames < 12 or args.epochs < 1:
        raise UserError("--frames must be >= 12 and --epochs >= 1")
    work = os.path.abspath(args.workdir)
    started = []  # the dashboard line, once the demo's control plane has printed it

    def out(line):
        print(line, flush=True)
        if "dashboard: http" in line and not started:
            started.append(line.split("dashboard: ", 1)[1].split()[0])

    try:
        with own_context(os.path.join(work, DEMO_CONFIG)):
            run_demo(work, frames=args.frames, size=(h, w), epochs=args.epochs, keep=args.keep, out=out)
    except DemoError as e:
        raise UserError(str(e) + _gone(started, args.keep)) from None
    except KeyboardInterrupt:
        if not args.keep:
            _stop_leftover(os.path.join(work, "state"))
        print(f"sedna: interrupted{_gone(started, args.keep)}", file=sys.stderr)
        return 130
    if started and not args.keep:
        print(f"the demo's control plane has stopped: the dashboard at {started[0]} is gone "
              "(`sedna demo --keep` leaves it up)")
    return 0


#: Where the demo's control plane records its context (inside --workdir): the user's own
#: sedna config, and its current context, are never touched by the demo.
DEMO_CONFIG = "config"


@contextlib.contextmanager
def own_context(folder):
    """``$XDG_CONFIG_HOME`` set to ``folder`` while the block runs, so the `sedna up` the demo
    starts records its context there; the previous value comes back afterwards, also after
    an interruption."""
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = folder
    try:
        yield folder
    finally:
        if saved is None:
            os.environ.pop("XDG_CONFIG_HOME", None)
        else:
            os.environ["XDG_CONFIG_HOME"] = saved


def _stop_leftover(state):
    """Stop a demo control plane an interruption left running (one caught while it was starting)."""
    import subprocess

    from sedna.runtimes.local.runtime import lock_holder  # lazy: keeps `sedna` start-up light

    if lock_holder(state) is not None:
        subprocess.run([sys.executable, "-m", "sedna.cli", "down", "--state-dir", state], capture_output=True,
                       timeout=60)


def _gone(started, keep):
    """What became of the dashboard the demo printed, for a demo that ended early."""
    if not started or keep:
        return ""
    return f"; the demo's control plane was stopped, so the dashboard at {started[0]} is gone"


def _cmd_label(args):
    from sedna.common.exceptions import LabelError  # lazy: keeps `sedna` start-up light
    from sedna.core.labelling import LabelNaming, label  # lazy: keeps `sedna` start-up light

    if (args.truth is None) == (args.labels is None):
        raise UserError("give exactly one of --truth DIR (label files already under the Dataset's folder) "
                        "or --labels DIR (a folder of label files, copied beside the index)")
    try:
        naming = LabelNaming.parse(args.frame_suffix, args.label_suffix)
        lines = label(args.unseen, args.index, naming=naming, tree=args.truth, labels=args.labels, limit=args.limit)
    except LabelError as e:
        raise UserError(str(e)) from None
    print(f"labelled {len(lines)} sample(s); appended to {args.index}")
    return 0


def add_commands(sub):
    q = sub.add_parser("quickstart", help="train, evaluate, infer and update a real lifelong job (digits)",
                       description="Round 1 learns two domains of handwritten digits; inference meets a third "
                                   "domain and flags it unseen; round 2 learns it without forgetting.")
    q.add_argument("--output", default="sedna-quickstart", help="folder for the knowledge base and unseen samples "
                   "(default: ./sedna-quickstart)")
    q.add_argument("--seen", nargs="+", default=["plain", "inverted"], help="domains of round 1")
    q.add_argument("--unseen", default="rotated", help="the domain round 1 never sees")
    q.set_defaults(func=_cmd_quickstart)

    d = sub.add_parser("demo", help="the robot-dog job end to end: two rounds, a scene it never saw",
                       description="Render scenes, start the control plane, run round 1, stream the camera "
                                   "(with a held-out scene), label the unseen frames, run round 2, print the table.")
    d.add_argument("--workdir", default="sedna-demo", help="folder for everything (default ./sedna-demo)")
    d.add_argument("--frames", type=int, default=40, help="training frames per seen scene (default 40)")
    d.add_argument("--size", default="96x192", help="frame size HxW (default 96x192)")
    d.add_argument("--epochs", type=int, default=10, help="training epochs per round (default 10)")
    d.add_argument("--keep", action="store_true", help="leave the control plane (its dashboard) and the inference worker "
                   "running at the end")
    d.add_argument("--manifests", metavar="DIR", help="only write the demo's Dataset and job manifests, filled in "
                   "for --workdir, into DIR (ready for `sedna apply -f`), render the frames they point at under "
                   "--workdir, and exit")
    d.set_defaults(func=_cmd_demo)

    lb = sub.add_parser("label", help="label saved unseen samples and append them to the dataset index",
                        description="The annotator's step: attach a label file to each sample the inference "
                                    "worker saved as unseen (found by the job's naming: <stem><label suffix>), "
                                    "and append them to the Dataset's index.")
    lb.add_argument("--unseen", required=True, help="the inference worker's unseen_save_url folder")
    lb.add_argument("--index", required=True, help="the Dataset's index file (its spec.url)")
    lb.add_argument("--truth", metavar="DIR", help="label files already under this folder (e.g. the Dataset's): "
                    "the lines point at them in place")
    lb.add_argument("--labels", metavar="DIR", help="a folder of label files: copied beside the index, under labelled/")
    lb.add_argument("--frame-suffix", help="the end of a frame's name that is not its stem "
                    "(default: the extension; the robot: _leftImg8bit.png)")
    lb.add_argument("--label-suffix", help="what follows the stem in a label's name, comma-separated to try several "
                    "(default _label.png; the robot: _gtFine_labelTrainIds.png)")
    lb.add_argument("--limit", type=int, help="label at most this many samples")
    lb.set_defaults(func=_cmd_label)
