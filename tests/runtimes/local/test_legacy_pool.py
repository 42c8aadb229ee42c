"""A state folder from before the shared sample pool (pending samples as ``job_samples``
rows and a ``cursor`` in the job's state) goes on with the same pending samples."""

import sqlite3

from sedna.control import pool
from sedna.runtimes.local.store import Store


def test_pending_rows_of_an_old_state_folder_become_the_pool(tmp_path):
    db = str(tmp_path / "state.db")
    store = Store(db)
    conn = sqlite3.connect(db)
    # samples 0..9 taken by the job; 0..4 claimed by round 1, 5..9 pending; split counter after 10
    conn.executemany("INSERT INTO job_samples (namespace, job, seq, line, split, round) VALUES (?,?,?,?,?,?)",
                     [("default", "j", i, f"l{i}", "train", 1 if i < 5 else None) for i in range(10)])
    conn.commit()
    conn.close()
    state = store.legacy_pool("default", "j", {"cursor": 10, "split_counter": 10, "round": 1})
    assert state == {"pool_start": 5, "split_counter": 5, "round": 1}
    assert pool.pending(state, 12, 0.8) == (6, 1)  # the 5 pending and 2 new samples: 7 in all
    assert store.legacy_pool("default", "j", state) == state  # a current state is left as it is
    nothing_pending = store.legacy_pool("default", "k", {"cursor": 4, "split_counter": 4})
    assert nothing_pending == {"pool_start": 4, "split_counter": 4}
