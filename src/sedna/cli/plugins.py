"""``sedna plugins [SLOT]``: the plugin registry, by the ``LifelongLearning``
slot names the README uses (``task_definition``, ``task_allocation``, ...),
each slot's default marked. A registry type name (``seen_task_processing``)
still lists that type's names as they are registered."""

import inspect

from sedna.cli import UserError


def _slot_members(slot, info, pattern):
    """``[(name, class)]`` registered under the slot's type whose class is a
    subclass of the slot's base class."""
    from sedna.common.class_factory import ClassFactory  # lazy: keeps `sedna` start-up light

    out = []
    for name in ClassFactory.list(info.type, pattern=pattern):
        cls = ClassFactory.get_cls(info.type, name)
        if isinstance(cls, type) and issubclass(cls, info.base):
            out.append((name, cls))
    return out


def _params(cls, slot):
    """The parameters a user may give in the slot's ``param``, as ``a, b=1``
    (not ``self`` nor what the engine passes first)."""
    from sedna.core.lifelong_learning.slots import _leading_args  # lazy: keeps `sedna` start-up light

    if cls.__init__ is object.__init__:
        return ""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return ""
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    params = [p for p in params if p not in positional[:_leading_args(slot)]]
    shown = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        shown.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(shown)


def _print_slot(slot, info, pattern):
    from sedna.common.class_factory import ClassFactory  # lazy: keeps `sedna` start-up light

    members = _slot_members(slot, info, pattern)
    print(f"{slot}:")
    if not members:
        print("  (none)")
    canonical = {}  # aliases: other names of the same class
    for name, cls in members:
        if name == cls.__name__ or cls not in canonical:
            canonical[cls] = name
    members.sort(key=lambda m: m[0] != info.default)  # the default first, then by name
    width = max([len(n) for n, _ in members] + [0]) + 2
    for name, cls in members:
        notes = []
        if name == info.default:
            notes.append("(default)")
        if canonical.get(cls) != name:
            notes.append(f"(alias of {canonical[cls]})")
        elif not ClassFactory.is_builtin(info.type, name):
            notes.append("(user)")
        params = _params(cls, slot)
        if params and canonical.get(cls) == name:
            notes.append(f"params: {params}")
        print(f"  {name:<{width}}{' '.join(notes)}".rstrip())


def _cmd_plugins(args):
    from sedna.algorithms.registry import SLOTS  # lazy: keeps `sedna` start-up light
    from sedna.common.class_factory import ClassFactory, ClassType  # lazy: keeps `sedna` start-up light

    types = ClassType.all()
    if args.type and args.type not in SLOTS and args.type not in types:
        raise UserError(f"unknown plugin type {args.type!r}: slots are {', '.join(SLOTS)} "
                        f"(registry types: {', '.join(types)})")
    if args.type in types and args.type not in SLOTS:  # the registry's own type names, as registered
        print(f"{args.type}:")
        for n in ClassFactory.list(args.type, pattern=args.pattern):
            print(f"  {n}{'' if ClassFactory.is_builtin(args.type, n) else '  (user)'}")
        return 0
    for slot in ([args.type] if args.type else list(SLOTS)):
        _print_slot(slot, SLOTS[slot], args.pattern)
    return 0


def add_commands(sub):
    pl = sub.add_parser("plugins", help="list the plugins of each LifelongLearning slot",
                        description="List the registered plugins by LifelongLearning slot (task_definition, "
                                    "task_relationship_discovery, task_allocation, task_remodeling, "
                                    "inference_integrate, task_update_decision, unseen_task_allocation, "
                                    "unseen_sample_recognition, unseen_sample_re_recognition); the default "
                                    "of each slot is marked.")
    pl.add_argument("type", nargs="?", metavar="SLOT", help="one slot (e.g. task_allocation), or a registry type "
                    "(e.g. seen_task_processing)")
    pl.add_argument("--pattern", help="shell-style filter on names, e.g. '*Origin*'")
    pl.set_defaults(func=_cmd_plugins)
