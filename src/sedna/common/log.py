"""The package logger.

No handler is installed at import; ``sedna.common.log.setup()`` (called by the
CLI and by worker entry points) adds one. The level comes from ``LOG_LEVEL``
when setup runs, never at import.
"""

import logging
import os
import sys

LOGGER = logging.getLogger("sedna")
LOGGER.addHandler(logging.NullHandler())

_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s]: %(message)s"


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


def sedna_logger(name):
    """A child logger, e.g. ``sedna_logger(__name__)``."""
    return LOGGER.getChild(name.replace("sedna.", "", 1)) if name.startswith("sedna.") else LOGGER.getChild(name)
