"""Limits on YAML (and JSON) input before it is loaded: text that is not UTF-8,
nesting deeper than a bound, and aliases that expand to more nodes than a
bound (the "billion laughs" alias bomb).

The CLI calls :func:`read_text` and :func:`check` on every manifest file
before ``sedna.control.resources.load_manifests`` builds Python objects from
it. The check walks the parser's event stream, which is not recursive, so a
file nested ten thousand levels deep costs no Python stack, and it computes
the size an alias stands for from the sizes of the anchored nodes, without
expanding anything. Syntax errors are left to the loader, which reports them
with their line.
"""

import yaml
from sedna.common.exceptions import InputError  # noqa: F401 - re-exported

__all__ = ("InputError", "MAX_DEPTH", "MAX_ALIAS_NODES", "read_text", "decode", "check")

#: collections nested deeper than this are refused (a manifest needs about 12)
MAX_DEPTH = 100
#: nodes that aliases may stand for, all documents of a file together
MAX_ALIAS_NODES = 100_000


def decode(data, name):
    """``data`` (bytes) as UTF-8 text, or :class:`InputError` naming the line
    of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{name}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x} "
                         f"at offset {e.start})") from None


def read_text(path, name=None):
    """The UTF-8 text of file ``path`` (``OSError`` passes through)."""
    with open(path, "rb") as f:
        data = f.read()
    return decode(data, name or path)


def check(text, name, max_depth=MAX_DEPTH, max_alias_nodes=MAX_ALIAS_NODES):
    """Raise :class:`InputError` when ``text`` nests deeper than ``max_depth``
    or its aliases stand for more than ``max_alias_nodes`` nodes in all.

    A node counts 1, a collection 1 plus its items (both keys and values of a
    mapping); an alias counts the size of the node it names.
    """
    stack = []       # [anchor, size] of each open collection
    sizes = {}       # anchor -> size of its node, in the current document
    aliased = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.DocumentStartEvent):
                sizes = {}
            elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= max_depth:
                    raise InputError(f"{name}:{ev.start_mark.line + 1}: YAML nested deeper than "
                                     f"{max_depth} levels")
                stack.append([ev.anchor, 1])
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = stack.pop()
                _add(stack, sizes, anchor, size)
            elif isinstance(ev, yaml.ScalarEvent):
                _add(stack, sizes, ev.anchor, 1)
            elif isinstance(ev, yaml.AliasEvent):
                size = sizes.get(ev.anchor, 1)  # an unknown anchor is the loader's error
                aliased += size
                if aliased > max_alias_nodes:
                    raise InputError(f"{name}:{ev.start_mark.line + 1}: YAML aliases expand to more "
                                     f"than {max_alias_nodes} nodes (an alias bomb?)")
                _add(stack, sizes, None, size)
    except yaml.YAMLError:
        return  # a syntax error: the loader reports it with its line


def _add(stack, sizes, anchor, size):
    if anchor is not None:
        sizes[anchor] = size
    if stack:
        stack[-1][1] += size
