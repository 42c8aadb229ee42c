"""Python files that are not on ``sys.path`` (benchmarks, worker scripts), imported by path."""

import importlib.util
import sys
from pathlib import Path

from support.paths import BENCHMARKS


def load_file(path, name=None):
    """Import the file ``path`` as module ``name`` (default: the file's stem) and return it.

    The module is registered in ``sys.modules`` under ``name``, as an import would, so a
    file that imports it by that name gets this module."""
    path = Path(path)
    name = name or path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_benchmark(name):
    """``benchmarks/<name>.py`` as a module."""
    return load_file(BENCHMARKS / f"{name}.py")
