"""Parsing and checking of the ``{"method": ..., "param": ...}`` slot specs."""

import inspect
import json

from sedna.algorithms.registry import SLOTS, slot_plugins
from sedna.common.class_factory import ClassFactory, unknown_plugin
from sedna.common.exceptions import PluginParamError


class SlotSpec:
    """A resolved slot: plugin class and its parameters."""

    __slots__ = ("slot", "method", "param", "cls")

    def __init__(self, slot, method, param, cls):
        self.slot, self.method, self.param, self.cls = slot, method, param, cls

    def to_json(self):
        return {"method": self.method, "param": self.param}

    def build(self, *args):
        try:
            return self.cls(*args, **self.param)
        except (TypeError, ValueError) as e:
            raise PluginParamError(f"{self.slot} ({self.method}): {e}") from e


def _leading_args(slot):
    # positional arguments the engine passes before the user's params
    return 0 if slot in ("task_definition", "task_relationship_discovery") else 1


def check_params(slot, method, cls, param, strict=False):
    """Refuse parameters the plugin does not take. ``strict`` (built-ins):
    judge by the named parameters even when ``__init__`` also takes ``**kwargs``."""
    init = cls.__init__
    if init is object.__init__:
        if param:
            raise PluginParamError(f"{slot}.param: {method} takes no parameters, got {sorted(param)}")
        return
    try:
        sig = inspect.signature(init)
    except (TypeError, ValueError):
        return
    params = list(sig.parameters.values())[1:]  # drop self
    if not strict and any(p.kind is p.VAR_KEYWORD for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    named -= {p.name for p in positional[:_leading_args(slot)]}
    unknown = sorted(set(param) - named)
    if unknown:
        raise PluginParamError(f"{slot}.param.{unknown[0]}: {method} does not take this parameter "
                               f"(accepted: {', '.join(sorted(named)) or 'none'})")


def parse_slot(slot, spec):
    """Resolve a slot spec (dict, JSON string or None) to a :class:`SlotSpec`."""
    info = SLOTS[slot]
    if spec is None:
        spec = {"method": info.default}
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            spec = {"method": spec}  # a bare plugin name
    if not isinstance(spec, dict):
        raise PluginParamError(f"{slot}: expected a dict {{'method': name, 'param': {{...}}}}, "
                               f"got {type(spec).__name__}")
    unknown = sorted(set(spec) - {"method", "param"})
    if unknown:
        raise PluginParamError(f"{slot}.{unknown[0]}: unknown key (expected 'method' and 'param')")
    method = spec.get("method") or info.default
    if not isinstance(method, str):
        raise PluginParamError(f"{slot}.method: expected a plugin name, got {type(method).__name__}")
    param = spec.get("param")
    if param is None or param == "":
        param = {}
    if isinstance(param, str):
        try:
            param = json.loads(param)
        except ValueError as e:
            raise PluginParamError(f"{slot}.param: not valid JSON ({e})") from None
    if not isinstance(param, dict):
        raise PluginParamError(f"{slot}.param: expected a dict, got {type(param).__name__}")
    if not ClassFactory.is_exists(info.type, method):
        raise unknown_plugin(slot, method, slot_plugins(slot, aliases=False))
    cls = ClassFactory.get_cls(info.type, method)
    if isinstance(cls, type) and not issubclass(cls, info.base):
        for other, oinfo in SLOTS.items():
            if other != slot and issubclass(cls, oinfo.base):
                raise PluginParamError(f"{slot}.method: {method} is a {other} plugin, not a {slot} plugin")
    check_params(slot, method, cls, param, strict=ClassFactory.is_builtin(info.type, method))
    return SlotSpec(slot, method, dict(param), cls)
