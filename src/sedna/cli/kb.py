"""``sedna kb list|show|rollback``: look into and roll back a knowledge base
(``rollback --deploy``: and serve the version, :func:`sedna.control.deploy.roll_back`).

A job keeps one knowledge base, ``outputDir/kb``: round r's train worker adds
version r. The commands take that folder, or the job's ``outputDir`` (its
``kb`` folder is used). Other folders of a job are named for what they are
(an evaluation output, the deployed index, a version folder), with where the
knowledge base is, in one line; nothing here ends in a traceback.
"""

import json
import os

from sedna.cli import UserError

JOB_KB = "kb"


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _kb_of_index(doc, path):
    """The knowledge base an index document (a version, an eval output) came from."""
    from sedna.core.lifelong_learning.kb_doc import kb_root_of  # lazy: keeps `sedna` start-up light
    from sedna.knowledge.index import KBVersion  # lazy: keeps `sedna` start-up light

    source = (doc.get("evaluation") or {}).get("source_index")
    if source:
        return kb_root_of(KBVersion(source, os.path.dirname(source), {}))
    return kb_root_of(KBVersion(path, os.path.dirname(path), {}))


def _not_a_kb(path):
    """Why ``path`` is not a knowledge-base folder, naming the knowledge base it belongs to."""
    index = os.path.join(path, "index.json")
    doc = _read_json(index) if os.path.isfile(index) else None
    if doc is None:
        return f"{path}: no knowledge base here (a job's knowledge base is its outputDir/{JOB_KB})"
    if doc.get("evaluation"):
        ev = doc["evaluation"]
        what = ("the deployed index" if os.path.basename(os.path.normpath(path)) == "deploy"
                else "an evaluation output")
        return (f"{path} is {what} (knowledge base version {ev.get('source_version')}, evaluated); "
                f"the knowledge base is {_kb_of_index(doc, index)}")
    if isinstance(doc.get("version"), int) and os.path.basename(os.path.dirname(os.path.abspath(path))) == "versions":
        return f"{path} is version {doc['version']} of the knowledge base {_kb_of_index(doc, index)}"
    return f"{path}: no knowledge base here (a job's knowledge base is its outputDir/{JOB_KB})"


def _kb_root(path):
    """The knowledge-base folder ``path`` names (itself, or a job's outputDir/kb)."""
    if "://" in path:
        return path
    if not os.path.exists(path):
        raise UserError(f"no knowledge base at {path}: it does not exist")
    if not os.path.isdir(path):
        raise UserError(f"{path} is a file; give the knowledge base's folder (a job's outputDir/{JOB_KB})")
    if os.path.isdir(os.path.join(path, "versions")):
        return path
    doc = _read_json(os.path.join(path, "index.json"))
    if doc is not None and doc.get("base_url"):
        return path
    if os.path.isdir(os.path.join(path, JOB_KB, "versions")):
        return os.path.join(path, JOB_KB)
    raise UserError(_not_a_kb(path))


def _open_kb(path):
    from sedna.knowledge import KnowledgeBase  # lazy: keeps `sedna` start-up light

    root = _kb_root(path)
    try:
        return root, KnowledgeBase(root)
    except Exception as e:  # noqa: BLE001 - one line, never a traceback
        raise UserError(f"{root}: cannot open the knowledge base: {e}") from None


def _guard(fn):
    """Run a kb command; any error that is not already a UserError becomes one line."""
    def run(args):
        try:
            return fn(args)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - the CLI shows one line, never a traceback
            raise UserError(f"{args.path}: {type(e).__name__}: {e}") from None
    return run


@_guard
def _cmd_kb_list(args):
    root, kb = _open_kb(args.path)
    cur = kb.current()
    versions = kb.versions()
    if not versions:
        print(f"{root}: a knowledge base with no versions yet")
        return 0
    if root != args.path:
        print(f"knowledge base {root}")
    print(f"{'VERSION':<9}{'CURRENT':<9}{'TASKS':<7}{'SAMPLES':<9}{'PARENT':<8}CREATED")
    for n in versions:
        v = kb.load(n)
        groups = v.doc.get("task_groups", [])
        samples = sum(g.get("n_samples", 0) for g in groups)
        mark = "*" if cur is not None and cur.number == n else ""
        parent = "-" if v.parent_version is None else v.parent_version
        print(f"{n:<9}{mark:<9}{len(groups):<7}{samples:<9}{parent!s:<8}{v.created_at}")
    return 0


@_guard
def _cmd_kb_show(args):
    root, kb = _open_kb(args.path)
    try:
        v = kb.load(args.version)
    except Exception as e:  # noqa: BLE001 - reported as one line
        raise UserError(f"{root}: {e}; versions: {kb.versions()}") from None
    if args.json:
        print(json.dumps(v.doc, indent=1))
        return 0
    from sedna.core.lifelong_learning.kb_doc import group_change, group_served_by  # lazy: keeps `sedna` start-up light

    print(f"version {v.number} ({v.url}), parent {v.parent_version}, created {v.created_at}")
    refreshed = (v.doc.get("update") or {}).get("refreshed") or {}
    rows = []
    for g in v.doc.get("task_groups", []):
        m = g.get("model", {})
        metrics = g.get("eval_metrics") or m.get("metrics") or {}
        url = v.resolve(m["url"]) if m.get("url") else "-"
        rows.append((g["entry"], g.get("n_samples", 0), group_change(g, v.number, refreshed),
                     group_served_by(g), ", ".join(f"{k}={_num(x)}" for k, x in metrics.items()) or "-", url))
    from sedna.cli.views import table  # lazy: keeps `sedna` start-up light

    # the model path last, whole and absolute (a version may use models an earlier version wrote)
    print(table(rows, ["TASK", "SAMPLES", "THIS VERSION", "SERVED BY", "METRICS", "MODEL"]))
    return 0


def _num(x):
    return f"{x:.3f}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _job_output_dir(root):
    """The outputDir of the job whose knowledge base is ``root`` (``outputDir/kb``), or None."""
    norm = root.rstrip("/")
    split = os.path.split if "://" not in norm else (lambda p: tuple(p.rsplit("/", 1)))
    parent, name = split(norm)
    return parent if name == JOB_KB and parent else None


@_guard
def _cmd_kb_rollback(args):
    root, kb = _open_kb(args.path)
    out = _job_output_dir(root)
    if args.deploy:
        from sedna.control.deploy import NotDeployable, roll_back  # lazy: keeps `sedna` start-up light

        if out is None:
            raise UserError(f"--deploy: {root} is not a job's knowledge base (outputDir/{JOB_KB}), so it has no "
                            "deployed index; roll back without --deploy")
        try:
            v, served = roll_back(out, args.version)
        except NotDeployable as e:  # names the version and the knowledge base
            raise UserError(str(e)) from None
        print(f"{root}: current version is now {v.number}, and the deployed index {served} serves it "
              "(a running inference worker reloads it)")
        return 0
    if args.version not in kb.versions():
        raise UserError(f"{root}: no version {args.version}; versions: {kb.versions()}")
    v = kb.rollback(args.version)
    print(f"{root}: current version is now {v.number}")
    if out is not None:
        from sedna.control.deploy import served_version  # lazy: keeps `sedna` start-up light

        served = served_version(out)
        if served is not None and served != v.number:
            print(f"the inference worker still serves version {served}; `sedna kb rollback --deploy` serves "
                  f"version {v.number} too")
    return 0


def add_commands(sub):
    kb = sub.add_parser("kb", help="inspect or roll back a knowledge base", description="Knowledge-base tools. "
                        f"PATH is a job's knowledge base (outputDir/{JOB_KB}, which `sedna demo` prints) "
                        "or the job's outputDir.")
    kbs = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND")
    kl = kbs.add_parser("list", help="versions of a knowledge base")
    kl.add_argument("path", help=f"the knowledge base folder (a job's outputDir/{JOB_KB}) or the job's outputDir")
    kl.set_defaults(func=_cmd_kb_list)
    ks = kbs.add_parser("show", help="tasks, models (absolute paths) and metrics of one version")
    ks.add_argument("path")
    ks.add_argument("version", nargs="?", type=int, help="version number (default: current)")
    ks.add_argument("--json", action="store_true", help="print the index document")
    ks.set_defaults(func=_cmd_kb_show)
    kr = kbs.add_parser("rollback", help="make an earlier version current (and, with --deploy, served)",
                        description="Make VERSION the current version: the next round trains from it. With "
                        "--deploy, the job's inference worker serves it too: its eval output becomes the deployed "
                        "index (outputDir/deploy/index.json), which a running inference worker reloads, as the "
                        "dashboard's Roll back button does.")
    kr.add_argument("path", help=f"the knowledge base folder (a job's outputDir/{JOB_KB}) or the job's outputDir")
    kr.add_argument("version", type=int, help="the version number (`sedna kb list` shows them)")
    kr.add_argument("--deploy", action="store_true",
                    help="also publish the version's evaluated index as the job's deployed index (PATH must be a "
                    f"job's outputDir/{JOB_KB} or outputDir; the version must have been evaluated)")
    kr.set_defaults(func=_cmd_kb_rollback)
    kb.set_defaults(func=lambda a: (kb.print_help(), 2)[1])
