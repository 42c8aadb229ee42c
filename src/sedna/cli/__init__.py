"""The ``sedna`` command.

Commands: ``up``/``down`` (the embedded control plane, :mod:`.server`),
``apply``, ``get``, ``describe``, ``logs``, ``delete`` (kubectl-style,
:mod:`.control`, :mod:`.apply`), ``context`` (which server, :mod:`.context`),
``quickstart``, ``demo``, ``label`` (:mod:`.examples`), ``plugins``
(:mod:`.plugins`), ``kb`` (:mod:`.kb`), ``crds``, ``operator``, ``agent``
(on a Kubernetes cluster, :mod:`.cluster`), ``version``. User mistakes print one
line and exit non-zero, never a traceback.
"""

import argparse
import os
import sys

from sedna import __version__
from sedna.common.exceptions import UserError  # noqa: F401 - re-exported


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake as one line (argparse prints the usage, then the error)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _cmd_version(args):
    print(f"sedna {__version__}")
    return 0


def build_parser():
    from sedna.cli import cluster, context, control, examples, kb, plugins  # lazy: keeps `sedna` start-up light

    p = Parser(prog="sedna", description="Lifelong learning for robots and smart environments.")
    p.add_argument("--version", action="version", version=f"sedna {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    examples.add_commands(sub)
    plugins.add_commands(sub)
    kb.add_commands(sub)
    control.add_commands(sub)
    context.add_commands(sub)
    cluster.add_commands(sub)
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
        print(f"sedna: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sedna: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sedna describe ... | head`: the reader left; so do we, quietly
        _silence_stdout()
        return 141
    except Exception as e:  # noqa: BLE001 - a bug, still one line; SEDNA_DEBUG=1 shows the traceback
        if os.environ.get("SEDNA_DEBUG"):
            raise
        print(f"sedna: internal error: {type(e).__name__}: {_one_line(e)} (SEDNA_DEBUG=1 shows the traceback; "
              "please report it)", file=sys.stderr)
        return 1


def _one_line(e):
    return " ".join(str(e).split()) or type(e).__name__


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's last flush raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
