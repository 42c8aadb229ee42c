"""The package logger.

``LOGGER`` (``logging.getLogger("sedna")``) logs INFO and above to stderr out
of the box, as the original's workers expect: a worker that only does
``LOGGER.info(...)`` shows its lines in its log. Nothing is frozen at import:

* the level is ``LOG_LEVEL`` (default ``INFO``), read when the logger is first
  consulted, until someone sets one (``LOGGER.setLevel`` or :func:`setup`);
* the default stderr handler writes to the current ``sys.stderr`` and steps
  aside when the application configured logging itself (a handler on the
  root logger: the line reaches it by propagation) or when :func:`setup`
  installed the sedna handler, so no line is ever printed twice;
* a library user silences it with :func:`silence`, with
  ``LOGGER.setLevel(logging.WARNING)``, or by configuring logging.

``sedna.common.log.setup()`` (called by the CLI and by worker entry points)
replaces the default with one explicit stream handler (idempotent).
"""

import logging
import os
import sys

__all__ = ("LOGGER", "setup", "silence", "sedna_logger")

_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s]: %(message)s"


def _env_level():
    raw = (os.environ.get("LOG_LEVEL") or "INFO").strip().upper()
    if raw.isdigit():
        return int(raw)
    level = logging.getLevelName(raw)
    return level if isinstance(level, int) else logging.INFO


class _SednaLogger(logging.Logger):
    """A logger whose unset level means ``LOG_LEVEL`` (read when consulted)."""

    @property
    def level(self):
        return self._level or _env_level()

    @level.setter
    def level(self, value):
        self._level = value


class _DefaultHandler(logging.StreamHandler):
    """stderr at the logger's level, unless someone else prints the line."""

    _sedna_default = True

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter(_FORMAT))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass  # always the current sys.stderr (test runners and daemons swap it)

    def handle(self, record):
        if any(getattr(h, "_sedna", False) for h in LOGGER.handlers):
            return False
        if LOGGER.propagate and logging.getLogger().handlers:
            return False
        return super().handle(record)


def _package_logger():
    existing = logging.Logger.manager.loggerDict.get("sedna")
    if isinstance(existing, logging.Logger):  # created before this module: keep it
        return existing
    previous = logging.getLoggerClass()
    logging.setLoggerClass(_SednaLogger)
    try:
        return logging.getLogger("sedna")
    finally:
        logging.setLoggerClass(previous)


LOGGER = _package_logger()
if not any(getattr(h, "_sedna_default", False) for h in LOGGER.handlers):
    LOGGER.addHandler(_DefaultHandler())


def setup(level=None, stream=None):
    """Attach one stream handler to the sedna logger (idempotent)."""
    level = level or os.environ.get("LOG_LEVEL") or "INFO"
    LOGGER.setLevel(str(level).upper())
    for h in LOGGER.handlers:
        if getattr(h, "_sedna", False):
            return LOGGER
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._sedna = True
    LOGGER.addHandler(handler)
    return LOGGER


def silence():
    """Remove the default stderr handler (a library user who wants no output;
    records still propagate to handlers the application installs)."""
    for h in list(LOGGER.handlers):
        if getattr(h, "_sedna_default", False):
            LOGGER.removeHandler(h)
    if not LOGGER.handlers:
        LOGGER.addHandler(logging.NullHandler())
    return LOGGER


def sedna_logger(name):
    """A child logger, e.g. ``sedna_logger(__name__)``."""
    return LOGGER.getChild(name.replace("sedna.", "", 1)) if name.startswith("sedna.") else LOGGER.getChild(name)
