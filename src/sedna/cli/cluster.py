"""On a Kubernetes cluster: ``sedna crds`` (the CustomResourceDefinitions, generated
by :mod:`sedna.control.crds`), ``sedna operator`` (the controller, a Deployment)
and ``sedna agent`` (the node agent, a DaemonSet). The last two are thin
wrappers: they parse the flags and hand the Namespace to
:func:`sedna.runtimes.kubernetes.operator.run_operator` and
:func:`sedna.runtimes.kubernetes.agent.run_agent`, imported only when called so
that the rest of the CLI works without the ``kubernetes`` extra.
"""

import importlib
import os
import sys

from sedna.cli import UserError
from sedna.runtimes.kubernetes import add_api_flags, add_metrics_flags
from sedna.common.constants import DEFAULT_PORT


def _cmd_crds(args):
    from sedna.control import crds  # lazy: keeps `sedna` start-up light

    if args.output_dir:
        for kind, name in crds.FILES.items():
            path = os.path.join(args.output_dir, name)
            try:
                os.makedirs(args.output_dir, exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(crds.render(kind))
            except OSError as e:
                raise UserError(f"cannot write {path}: {e.strerror or e}") from None
            print(f"wrote {path}")
        return 0
    sys.stdout.write(crds.render_all())
    return 0


def _run(module, function, command):
    """Call ``sedna.runtimes.kubernetes.<module>.<function>``, or say it is not there yet."""
    def run(args):
        try:
            mod = importlib.import_module(f"sedna.runtimes.kubernetes.{module}")
        except ModuleNotFoundError as e:
            missing = e.name or ""
            if missing == f"sedna.runtimes.kubernetes.{module}":
                print(f"sedna {command}: not available yet (see issue 10)", file=sys.stderr)
                return 2
            if missing.split(".")[0] == "sedna":
                raise
            raise UserError(f"{command} needs the package {missing!r}: pip install 'sedna[kubernetes]'") from None
        fn = getattr(mod, function, None)
        if fn is None:
            print(f"sedna {command}: not available yet (see issue 10)", file=sys.stderr)
            return 2
        return fn(args) or 0
    return run


def add_commands(sub):
    p = sub.add_parser("crds", help="print the CustomResourceDefinitions (Dataset, LifelongLearningJob)",
                       description="Print the CRDs of sedna.io/v1alpha1, generated from the schema `sedna apply` "
                                   "validates with: kubectl apply -f <(sedna crds)")
    p.add_argument("--output-dir", metavar="DIR", default=None,
                   help="write one file per kind into DIR (as in deploy/crds/) instead of printing")
    p.set_defaults(func=_cmd_crds)

    p = sub.add_parser("operator", help="run the controller on a Kubernetes cluster (the Deployment's command)",
                       description="Reconcile Datasets and LifelongLearningJobs in a Kubernetes cluster: "
                                   "workers become Pods.")
    p.add_argument("--namespace", metavar="NS", default=None, help="watch only this namespace (default: all)")
    add_api_flags(p)
    add_metrics_flags(p)
    p.set_defaults(func=_run("operator", "run_operator", "operator"))

    p = sub.add_parser("agent", help="run the node agent (the DaemonSet's command)",
                       description="Watch the index files of the Datasets on this node and serve the worker "
                                   "report endpoint (LC_SERVER).")
    p.add_argument("--node-name", metavar="NAME", default=os.environ.get("NODE_NAME"),
                   help="this node's name (default: $NODE_NAME, set from the downward API)")
    p.add_argument("--host", metavar="H", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--port", metavar="PORT", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT})")
    p.add_argument("--state-dir", metavar="DIR", default=None, help="where the Datasets' sample logs are kept")
    add_api_flags(p)
    p.set_defaults(func=_run("agent", "run_agent", "agent"))
