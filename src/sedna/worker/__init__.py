"""Worker-side helpers: reporting to the control plane."""

from sedna.worker.report import build_report, report_task_info, reset_report_state

__all__ = ("report_task_info", "build_report", "reset_report_state")
