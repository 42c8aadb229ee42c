"""``sedna kb list|show|rollback``: look into and roll back a knowledge base."""

import json
import os

from sedna.cli import UserError


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


def add_commands(sub):
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
