"""Typed plugin registry.

``@ClassFactory.register(ClassType.STP)`` registers a class (or function) under
its name or ``alias``; ``ClassFactory.get_cls(type, name)`` returns it.

Rules:

* Registering a *different* class under a taken name raises
  :class:`DuplicateRegistrationError` naming both, unless ``force=True``.
  Registering the same class again (a module imported twice) is a no-op.
* Built-in plugins are registered by :mod:`sedna.algorithms` when it is
  imported (:meth:`ClassFactory.register_builtins`; this module knows nothing
  of them). They are defaults: a user's class registered under a built-in's
  name replaces it (logged), whichever is registered first, which is how the
  tutorial's "paste TaskDefinitionByOrigin into your module" keeps working.
* Asking for an unknown name raises :class:`UnknownPluginError` naming the
  kind of plugin in words, the names registered for it and, for a near miss,
  the name meant (:func:`unknown_plugin`).
"""

import fnmatch
import threading
from inspect import isclass, isfunction

from sedna.common.exceptions import DuplicateRegistrationError, UnknownPluginError
from sedna.common.log import LOGGER

__all__ = ("ClassType", "ClassFactory", "unknown_plugin", "near_miss", "type_words")


class ClassType:
    """Plugin kinds. Values are the original system's, so names in existing
    configurations and code keep their meaning."""

    GENERAL = "general"
    HEM = "hard_example_mining"
    FL_AGG = "aggregation"
    MTL = "multi_task_learening"
    UTD = "unseen_task_detect"
    OF = "optical_flow"
    ALGORITHM = "algorithm"
    DATASET = "data_process"
    CALLBACK = "post_process_callback"
    UTP = "unseen_task_processing"
    KM = "knowledge_management"
    STP = "seen_task_processing"
    SAMPLE_RENDERER = "sample_renderer"  # sedna.core.labelling.render: how a job's samples look

    @classmethod
    def all(cls):
        return sorted(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))


#: each plugin kind in a user's words, for error messages
_TYPE_WORDS = {
    ClassType.GENERAL: "general", ClassType.HEM: "hard-example mining", ClassType.FL_AGG: "aggregation",
    ClassType.MTL: "multi-task learning", ClassType.UTD: "unseen-sample recognition",
    ClassType.OF: "optical flow", ClassType.ALGORITHM: "algorithm", ClassType.DATASET: "data processing",
    ClassType.CALLBACK: "callback", ClassType.UTP: "unseen-task allocation",
    ClassType.KM: "task update decision", ClassType.STP: "seen-task learning",
}


def type_words(type_name):
    """A plugin kind in words (``"seen-task learning"``), or the name itself when unknown."""
    return _TYPE_WORDS.get(type_name, str(type_name))


def _edits(a, b):
    """The edit distance of two strings (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def near_miss(name, known):
    """The one of ``known`` that ``name`` is a slip of (case, or at most two
    edits, one for short names), or None."""
    if not isinstance(name, str):
        return None
    same_case = [k for k in known if k.lower() == name.lower()]
    if same_case:
        return same_case[0]
    scored = sorted((_edits(name.lower(), k.lower()), k) for k in known)
    limit = 1 if len(name) < 8 else 2
    return scored[0][1] if scored and scored[0][0] <= limit else None


def unknown_plugin(what, name, known):
    """The :class:`UnknownPluginError` for ``name`` among ``known``: ``what`` says
    which plugins in a user's words (a slot, a kind); a near miss gets its
    suggestion ("did you mean ...?"), and only ``known`` are listed."""
    known = sorted(known)
    close = near_miss(name, known)
    hint = f"did you mean {close!r}? " if close else ""
    return UnknownPluginError(f"no {what} plugin named {name!r}; {hint}registered: {', '.join(known) or 'none'}")


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _same(a, b):
    return a is b or _qualname(a) == _qualname(b)


class ClassFactory:
    """The registry: ``{type_name: {name: class}}``."""

    __registry__ = {}
    _builtin = {}  # {type_name: set(names)} registered by register_builtins
    _lock = threading.RLock()

    # ------------------------------------------------------------------ register
    @classmethod
    def register(cls, type_name=ClassType.GENERAL, alias=None, force=False):
        """Decorator: register the decorated class/function."""

        def wrapper(t_cls):
            cls.register_cls(t_cls, type_name=type_name, alias=alias, force=force)
            return t_cls

        return wrapper

    @classmethod
    def register_cls(cls, t_cls, type_name=ClassType.GENERAL, alias=None, force=False):
        return cls._register(t_cls, type_name, alias, force, builtin=False)

    @classmethod
    def register_builtins(cls, entries):
        """Register ``(type_name, name, class)`` entries as built-ins (defaults
        a user's class under the same name replaces, before or after)."""
        for type_name, name, t_cls in entries:
            cls._register(t_cls, type_name, name, False, builtin=True)

    @classmethod
    def _register(cls, t_cls, type_name, alias, force, builtin):
        name = alias if alias is not None else t_cls.__name__
        with cls._lock:
            table = cls.__registry__.setdefault(type_name, {})
            builtins = cls._builtin.setdefault(type_name, set())
            old = table.get(name)
            if old is not None and not _same(old, t_cls):
                if builtin:
                    # a user plugin already took this name: the user's wins
                    return t_cls
                if name in builtins:
                    LOGGER.info("plugin %s:%s: %s replaces the built-in %s",
                                type_name, name, _qualname(t_cls), _qualname(old))
                elif not force:
                    raise DuplicateRegistrationError(
                        f"cannot register {_qualname(t_cls)} as {type_name}:{name}: "
                        f"the name is taken by {_qualname(old)} (pass force=True to replace it)")
            table[name] = t_cls
            if builtin:
                builtins.add(name)
            else:
                builtins.discard(name)
        return t_cls

    @classmethod
    def register_from_package(cls, package, type_name=ClassType.GENERAL):
        """Register every public class/function of a module."""
        for _name in dir(package):
            if _name.startswith("_"):
                continue
            obj = getattr(package, _name)
            if isclass(obj) or isfunction(obj):
                cls.register_cls(obj, type_name)

    @classmethod
    def unregister(cls, type_name, name):
        with cls._lock:
            cls.__registry__.get(type_name, {}).pop(name, None)
            cls._builtin.get(type_name, set()).discard(name)

    # -------------------------------------------------------------------- lookup
    @classmethod
    def is_exists(cls, type_name, cls_name=None):
        if cls_name is None:
            return type_name in cls.__registry__
        return cls_name in cls.__registry__.get(type_name, {})

    @classmethod
    def get_cls(cls, type_name, t_cls_name=None):
        """Return the class registered as ``type_name:t_cls_name``."""
        table = cls.__registry__.get(type_name, {})
        if t_cls_name is None or t_cls_name not in table:
            raise unknown_plugin(type_words(type_name), t_cls_name, table)
        return table[t_cls_name]

    @classmethod
    def list(cls, type_name=None, pattern=None):
        """Registered names: ``{type: [names]}``, or ``[names]`` for one type.

        ``pattern`` is a shell-style filter, e.g. ``"*Origin*"``.
        """

        def names(t):
            ns = sorted(cls.__registry__.get(t, {}))
            return [n for n in ns if fnmatch.fnmatchcase(n, pattern)] if pattern else ns

        if type_name is not None:
            return names(type_name)
        return {t: names(t) for t in sorted(cls.__registry__)}

    @classmethod
    def is_builtin(cls, type_name, name):
        return name in cls._builtin.get(type_name, set())
