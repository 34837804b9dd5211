"""A record of each import: who ran it, on what, and what it did to each record."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from evidence.models.choices import ImportStatus


class ImportRun(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_runs",
    )
    source_name = models.CharField(max_length=500)
    format = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    # --dry-run, --on-duplicate, --skip-invalid as given.
    options = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(
        default=0, help_text="Records that matched a study already imported from this run."
    )
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(
        default=0, help_text="Studies removed by PubMed DeleteCitation entries."
    )
    # [{"level": "error"|"warning"|"info", "location": "file, record 3, line 80",
    #   "message": "..."}]; capped so a file of a million bad rows stays storable.
    messages = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source_name} ({self.format}, {self.get_status_display().lower()})"
