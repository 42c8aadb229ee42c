"""The one polling helper of the tests."""

import inspect
import time


def describe(cond):
    """A reader's name for ``cond``: the source line from its lambda on, else the callable's name."""
    name = getattr(cond, "__qualname__", None) or repr(cond)
    if name.endswith("<lambda>"):
        try:
            source = " ".join(inspect.getsource(cond).split())
        except (OSError, TypeError):
            return name
        return source[source.find("lambda"):]
    return name


def wait_for(cond, timeout=60, interval=0.1, what=None):
    """Poll ``cond()`` every ``interval`` s until it returns something truthy, and return that.

    An exception raised by ``cond`` counts as "not yet" (the last one is reported). After
    ``timeout`` s, fails with an AssertionError naming ``what`` was awaited (by default
    the condition's source) and the condition's last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = cond()
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or describe(cond)}; last: {last!r}")
