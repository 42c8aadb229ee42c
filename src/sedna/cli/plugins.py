"""``sedna plugins``: the plugin registry."""

from sedna.cli import UserError


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


def add_commands(sub):
    pl = sub.add_parser("plugins", help="list registered plugins", description="List the plugin registry.")
    pl.add_argument("type", nargs="?", help="one plugin type (e.g. seen_task_processing)")
    pl.add_argument("--pattern", help="shell-style filter on names, e.g. '*Origin*'")
    pl.set_defaults(func=_cmd_plugins)
