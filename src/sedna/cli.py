"""The ``sedna`` command.

Commands: ``up``/``down`` (the embedded control plane), ``apply``, ``get``,
``describe``, ``logs``, ``delete`` (kubectl-style), ``quickstart`` (a real
lifelong-learning job on the digits that ship with scikit-learn), ``plugins``
(the plugin registry), ``kb`` (look into and roll back a knowledge base),
``version``. User mistakes print one line
and exit non-zero, never a traceback.
"""

import argparse
import json
import os
import sys

from sedna import __version__
from sedna.cli_control import UserError, add_commands


def _cmd_version(args):
    print(f"sedna {__version__}")
    return 0


def _cmd_quickstart(args):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UserError("quickstart needs scikit-learn: pip install 'sedna[sklearn]'") from None
    from sedna.common.log import setup
    from sedna.examples.digits import DOMAINS, run_quickstart

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


def _cmd_demo(args):
    try:
        import PIL  # noqa: F401
        import torch  # noqa: F401
        import fastapi  # noqa: F401
    except ImportError as e:
        raise UserError(f"the demo needs {e.name}: pip install torch==2.13.0 && pip install 'sedna[robo,server]'") \
            from None
    from sedna.examples.robo.demo import DemoError, run_demo

    try:
        h, w = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise UserError(f"--size {args.size!r}: expected HxW, e.g. 96x192") from None
    if h % 32 or w % 32:
        raise UserError(f"--size {args.size}: height and width must be multiples of 32")
    if args.frames < 12 or args.epochs < 1:
        raise UserError("--frames must be >= 12 and --epochs >= 1")
    try:
        run_demo(args.workdir, frames=args.frames, size=(h, w), epochs=args.epochs, keep=args.keep)
    except DemoError as e:
        raise UserError(str(e)) from None
    return 0


def _cmd_label(args):
    from sedna.examples.robo.label import LabelError, label

    try:
        lines = label(args.unseen, args.index, truth=args.truth, labels=args.labels, limit=args.limit)
    except LabelError as e:
        raise UserError(str(e)) from None
    print(f"labelled {len(lines)} frame(s); appended to {args.index}")
    return 0


def _cmd_plugins(args):
    from sedna.common.class_factory import ClassFactory, ClassType

    types = ClassType.all()
    if args.type and args.type not in types:
        raise UserError(f"unknown plugin type {args.type!r}; types: {', '.join(types)}")
    listing = ClassFactory.list(args.type, pattern=args.pattern) if args.type else ClassFactory.list(pattern=args.pattern)
    if args.type:
        listing = {args.type: listing}
    for t, names in listing.items():
        print(f"{t}:")
        for n in names:
            print(f"  {n}{'' if ClassFactory.is_builtin(t, n) else '  (user)'}")
    return 0


def _open_kb(path):
    from sedna.knowledge import KnowledgeBase

    if not os.path.exists(path) and "://" not in path:
        raise UserError(f"no knowledge base at {path}")
    return KnowledgeBase(path)


def _cmd_kb_list(args):
    kb = _open_kb(args.path)
    cur = kb.current()
    versions = kb.versions()
    if not versions:
        print(f"{args.path}: no versions")
        return 0
    print(f"{'VERSION':<9}{'CURRENT':<9}{'TASKS':<7}{'SAMPLES':<9}CREATED")
    for n in versions:
        v = kb.load(n)
        groups = v.doc.get("task_groups", [])
        samples = sum(g.get("n_samples", 0) for g in groups)
        mark = "*" if cur is not None and cur.number == n else ""
        print(f"{n:<9}{mark:<9}{len(groups):<7}{samples:<9}{v.created_at}")
    return 0


def _cmd_kb_show(args):
    kb = _open_kb(args.path)
    try:
        v = kb.load(args.version)
    except Exception as e:  # noqa: BLE001 - reported as one line
        raise UserError(str(e)) from None
    if args.json:
        print(json.dumps(v.doc, indent=1))
        return 0
    print(f"version {v.number} ({v.url}), parent {v.parent_version}, created {v.created_at}")
    print(f"{'TASK':<24}{'SAMPLES':<9}{'MODEL':<40}METRICS")
    for g in v.doc.get("task_groups", []):
        m = g.get("model", {})
        metrics = g.get("eval_metrics") or m.get("metrics") or {}
        print(f"{g['entry']:<24}{g.get('n_samples', 0):<9}{str(m.get('url', '-'))[-39:]:<40}"
              + ", ".join(f"{k}={v:.3f}" for k, v in metrics.items()))
    return 0


def _cmd_kb_rollback(args):
    kb = _open_kb(args.path)
    if args.version not in kb.versions():
        raise UserError(f"{args.path}: no version {args.version}; versions: {kb.versions()}")
    v = kb.rollback(args.version)
    print(f"{args.path}: current version is now {v.number}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="sedna", description="Lifelong learning for robots and smart environments.")
    p.add_argument("--version", action="version", version=f"sedna {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    d.add_argument("--keep", action="store_true", help="leave the inference worker running at the end")
    d.set_defaults(func=_cmd_demo)

    lb = sub.add_parser("label", help="label saved unseen frames and append them to the dataset index",
                        description="The annotator's step: attach labels to the frames the inference worker "
                                    "saved as unseen, and append them to the Dataset's index.")
    lb.add_argument("--unseen", required=True, help="the inference worker's unseen_save_url folder")
    lb.add_argument("--index", required=True, help="the Dataset's index file (its spec.url)")
    lb.add_argument("--truth", help="generated data root: take the generator's ground truth")
    lb.add_argument("--labels", help="folder of label PNGs (<frame>_gtFine_labelTrainIds.png)")
    lb.add_argument("--limit", type=int, help="label at most this many frames")
    lb.set_defaults(func=_cmd_label)

    pl = sub.add_parser("plugins", help="list registered plugins", description="List the plugin registry.")
    pl.add_argument("type", nargs="?", help="one plugin type (e.g. seen_task_processing)")
    pl.add_argument("--pattern", help="shell-style filter on names, e.g. '*Origin*'")
    pl.set_defaults(func=_cmd_plugins)

    kb = sub.add_parser("kb", help="inspect or roll back a knowledge base", description="Knowledge-base tools.")
    kbs = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND")
    kl = kbs.add_parser("list", help="versions of a knowledge base")
    kl.add_argument("path", help="the knowledge base folder (OUTPUT_URL of the train worker)")
    kl.set_defaults(func=_cmd_kb_list)
    ks = kbs.add_parser("show", help="tasks, models and metrics of one version")
    ks.add_argument("path")
    ks.add_argument("version", nargs="?", type=int, help="version number (default: current)")
    ks.add_argument("--json", action="store_true", help="print the index document")
    ks.set_defaults(func=_cmd_kb_show)
    kr = kbs.add_parser("rollback", help="make an earlier version current")
    kr.add_argument("path")
    kr.add_argument("version", type=int)
    kr.set_defaults(func=_cmd_kb_rollback)
    kb.set_defaults(func=lambda a: (kb.print_help(), 2)[1])

    add_commands(sub)

    v = sub.add_parser("version", help="print the version")
    v.set_defaults(func=_cmd_version)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UserError as e:
        print(f"sedna: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sedna: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
