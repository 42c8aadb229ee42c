"""Helpers shared by the tests, importable as ``support.<module>`` (pytest puts
``tests/`` on ``sys.path`` through ``pythonpath`` in pyproject.toml)."""
