"""Where things are: the repository, its sources and benchmarks, the tests' data files."""

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SRC = REPO / "src"
BENCHMARKS = REPO / "benchmarks"
DATA = TESTS / "data"              # worker scripts and manifests the tests run
MANIFESTS = DATA / "manifests"     # the tutorial's Dataset and job
