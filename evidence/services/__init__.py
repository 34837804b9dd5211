"""Writes to the evidence domain. Reads live in ``evidence.selectors``."""

from evidence.services.importing import ImportReport, study_import

__all__ = ["ImportReport", "study_import"]
