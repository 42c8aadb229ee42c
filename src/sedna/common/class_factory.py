"""Typed plugin registry.

``@ClassFactory.register(ClassType.STP)`` registers a class (or function) under
its name or ``alias``; ``ClassFactory.get_cls(type, name)`` returns it.

Rules:

* Registering a *different* class under a taken name raises
  :class:`DuplicateRegistrationError` naming both, unless ``force=True``.
  Registering the same class again (a module imported twice) is a no-op.
* Built-in plugins are registered in one place, :mod:`sedna.algorithms.registry`,
  the first time the registry is consulted. They are defaults: a user's class
  registered under a built-in's name replaces it (logged), which is how the
  tutorial's "paste TaskDefinitionByOrigin into your module" keeps working.
* Asking for an unknown name raises :class:`UnknownPluginError` listing the
  names registered for that type.
"""

import fnmatch
import threading
from inspect import isclass, isfunction

from sedna.common.exceptions import DuplicateRegistrationError, UnknownPluginError
from sedna.common.log import LOGGER

__all__ = ("ClassType", "ClassFactory")


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


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _same(a, b):
    return a is b or _qualname(a) == _qualname(b)


class ClassFactory:
    """The registry: ``{type_name: {name: class}}``."""

    __registry__ = {}
    _builtin = {}  # {type_name: set(names)} registered by the built-in loader
    _lock = threading.RLock()
    _builtins_loaded = False
    _loading_builtins = False

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
        name = alias if alias is not None else t_cls.__name__
        with cls._lock:
            builtin = cls._loading_builtins
            if not builtin:
                cls._ensure_builtins()
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
        cls._ensure_builtins()
        if cls_name is None:
            return type_name in cls.__registry__
        return cls_name in cls.__registry__.get(type_name, {})

    @classmethod
    def get_cls(cls, type_name, t_cls_name=None):
        """Return the class registered as ``type_name:t_cls_name``."""
        cls._ensure_builtins()
        table = cls.__registry__.get(type_name, {})
        if t_cls_name is None or t_cls_name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise UnknownPluginError(
                f"no {type_name} plugin named {t_cls_name!r}; registered: {known}")
        return table[t_cls_name]

    @classmethod
    def list(cls, type_name=None, pattern=None):
        """Registered names: ``{type: [names]}``, or ``[names]`` for one type.

        ``pattern`` is a shell-style filter, e.g. ``"*Origin*"``.
        """
        cls._ensure_builtins()

        def names(t):
            ns = sorted(cls.__registry__.get(t, {}))
            return [n for n in ns if fnmatch.fnmatchcase(n, pattern)] if pattern else ns

        if type_name is not None:
            return names(type_name)
        return {t: names(t) for t in sorted(cls.__registry__)}

    @classmethod
    def is_builtin(cls, type_name, name):
        cls._ensure_builtins()
        return name in cls._builtin.get(type_name, set())

    # ------------------------------------------------------------------ builtins
    @classmethod
    def _ensure_builtins(cls):
        if cls._builtins_loaded or cls._loading_builtins:
            return
        with cls._lock:
            if cls._builtins_loaded or cls._loading_builtins:
                return
            cls._loading_builtins = True
            try:
                from sedna.algorithms.registry import register_builtins
                register_builtins(cls)
                cls._builtins_loaded = True
            finally:
                cls._loading_builtins = False
