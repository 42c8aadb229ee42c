"""One worker's reports are budgeted (``sedna.control.reports.ReportBudget``): a count and
bytes over the server's life, per worker, the oldest worker's count forgotten first."""


def test_a_report_budget_counts_reports_and_bytes_per_worker():
    from sedna.control.reports import ReportBudget

    b = ReportBudget(reports=3, nbytes=100, workers=2)
    assert b.charge("a", 40) is None and b.charge("a", 40) is None
    assert "100 bytes" in b.charge("a", 40)  # would be 120
    assert b.charge("a", 20) is None and "3 reports" in b.charge("a", 1)
    assert b.charge("b", 100) is None and b.charge("c", 1) is None  # a third worker: the oldest count goes
    assert b.charge("a", 100) is None  # "a" was forgotten, so it starts again
