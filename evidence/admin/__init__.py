"""Admin registrations for every evidence model (importing the modules registers them)."""

from evidence.admin import appraisal, bibliographic, citations, imports, study

__all__ = ["appraisal", "bibliographic", "citations", "imports", "study"]
