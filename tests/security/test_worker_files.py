"""A FIFO planted where the launcher reads a worker's exit file or log never
blocks it (issue 8): run in a child process with a generous limit, so a hang
is a failure, not a stuck test run."""

import os
import subprocess
import sys

CHILD = r"""
import os, sys
from sedna.runtimes.local.workers import LocalLauncher, WorkerRecord
from sedna.runtimes.local.worker_logs import tail_file
d = sys.argv[1]
fifo = os.path.join(d, "planted")
os.mkfifo(fifo)
rec = WorkerRecord(name="w", namespace="default", pid=1, start_time=0, log_path=fifo, cwd=d, argv=[],
                   created_at=0.0, exit_file=fifo)
print(LocalLauncher(d)._read_exit(rec), repr(tail_file(fifo, 5)))
"""


def test_a_fifo_as_exit_file_or_log_reads_as_nothing_and_never_blocks(tmp_path):
    p = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["None", "''"]
    assert os.path.exists(tmp_path / "planted")
