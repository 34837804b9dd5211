"""Study.grants, funding_statement and conflict_of_interest: who paid for a study and
what its authors declared, which reviewers extract to judge sponsorship bias.

Existing studies get them when their source is imported again (PubMed XML's digest key
changed with this release, so those files are read again rather than skipped).
"""

from importlib import import_module

from django.db import migrations, models

# SQLite adds these columns by rebuilding the study table, which the link triggers of
# 0005 would break mid-way: they are taken off for the rebuild and put back after, as
# 0007 does.
_0007 = import_module("evidence.migrations.0007_study_abstract_digest")

GRANTS_HELP = 'Funders as the source lists them: [{"agency", "grant_id", "acronym", "country"}].'
FUNDING_HELP = "The source's funding acknowledgement, verbatim."
INTERESTS_HELP = "The authors' declaration of competing interests, verbatim."


def _fields(model_name: str) -> list[migrations.AddField]:
    return [
        migrations.AddField(
            model_name=model_name,
            name="grants",
            field=models.JSONField(blank=True, default=list, help_text=GRANTS_HELP),
        ),
        migrations.AddField(
            model_name=model_name,
            name="funding_statement",
            field=models.TextField(blank=True, help_text=FUNDING_HELP),
        ),
        migrations.AddField(
            model_name=model_name,
            name="conflict_of_interest",
            field=models.TextField(
                blank=True,
                help_text=INTERESTS_HELP,
                verbose_name="conflict of interest statement",
            ),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [("evidence", "0007_study_abstract_digest")]

    operations = [
        migrations.RunPython(_0007.remove_sqlite_triggers, _0007.install_sqlite_triggers),
        *_fields("study"),
        *_fields("historicalstudy"),
        migrations.RunPython(_0007.install_sqlite_triggers, _0007.remove_sqlite_triggers),
    ]
