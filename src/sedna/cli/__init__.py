"""The ``sedna`` command.

Commands: ``up``/``down`` (the embedded control plane), ``apply``, ``get``,
``describe``, ``logs``, ``delete`` (kubectl-style, :mod:`.control`,
:mod:`.apply`), ``quickstart``, ``demo``, ``label`` (:mod:`.examples`),
``plugins`` (:mod:`.plugins`), ``kb`` (:mod:`.kb`), ``version``. User mistakes
print one line and exit non-zero, never a traceback.
"""

import argparse
import sys

from sedna import __version__


class UserError(Exception):
    """A mistake on the command line: printed as one line, exit code 2."""


def _cmd_version(args):
    print(f"sedna {__version__}")
    return 0


def build_parser():
    from sedna.cli import control, examples, kb, plugins

    p = argparse.ArgumentParser(prog="sedna", description="Lifelong learning for robots and smart environments.")
    p.add_argument("--version", action="version", version=f"sedna {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    examples.add_commands(sub)
    plugins.add_commands(sub)
    kb.add_commands(sub)
    control.add_commands(sub)
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
