"""The embedded default runtime: one SQLite file, subprocess workers, one HTTP server on loopback."""
