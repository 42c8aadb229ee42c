"""sedna: lifelong learning for perception on robots and in smart environments."""

__version__ = "0.1.0"
