"""The ``curator`` group: what a curator may change through the admin and the API."""

from __future__ import annotations

CURATOR_GROUP = "curator"
_ALL = ("add", "change", "delete", "view")
# model name -> actions; the curated evidence, and running (not editing) imports.
CURATOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "study": _ALL,
    "appraisal": _ALL,
    "effectsize": _ALL,
    "limitation": _ALL,
    "researchgap": _ALL,
    "concept": _ALL,
    "journal": _ALL,
    "author": _ALL,
    "authorship": _ALL,
    "studymeshheading": _ALL,
    "work": _ALL,
    "citation": _ALL,
    "importrun": ("add", "view"),
}


def ensure_curator_group(apps=None, using: str = "default", **kwargs) -> None:
    """Create the group or top up its permissions (never removes any an admin added).

    Connected to ``post_migrate``, after ``django.contrib.auth`` has created the
    permissions of the evidence models.
    """
    if apps is None:
        from django.apps import apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth not migrated yet (migrating to zero, partial plans)
        return
    codenames = [
        f"{action}_{model}" for model, actions in CURATOR_PERMISSIONS.items() for action in actions
    ]
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="evidence", codename__in=codenames
    )
    group, _ = Group.objects.using(using).get_or_create(name=CURATOR_GROUP)
    group.permissions.add(*permissions)
