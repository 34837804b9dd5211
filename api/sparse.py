"""Sparse fieldsets: ``fields=id,title,appraisal.design`` keeps only those parts.

The allowed paths come from the serializer itself (nested serializers and list
children), so they cannot drift from what the endpoint returns. An unknown path is a 400
that lists what is available at that level.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

FIELDS_PARAM = "fields"
MAX_FIELDS_LENGTH = 2000

# A tree of field names: {"id": None, "appraisal": {"design": None}}; None = all of it.
Tree = dict[str, "Tree | None"]


def serializer_tree(serializer: serializers.BaseSerializer) -> Tree:
    """The fields a serializer renders, with the nested ones expanded."""
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    nested: dict[str, Any] = getattr(serializer, "sparse_nested", {})
    tree: Tree = {}
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        if name in nested:
            tree[name] = serializer_tree(nested[name]())
        elif isinstance(field, serializers.ListSerializer | serializers.Serializer):
            tree[name] = serializer_tree(field)
        else:
            tree[name] = None
    return tree


def parse_fields(raw: str | None, allowed: Tree) -> Tree | None:
    """The requested tree, or None when ``fields`` is absent (everything)."""
    if raw is None:
        return None
    if len(raw) > MAX_FIELDS_LENGTH:
        raise ValidationError({FIELDS_PARAM: [f"At most {MAX_FIELDS_LENGTH} characters."]})
    requested: Tree = {}
    for path in (part.strip() for part in raw.split(",")):
        if not path:
            continue
        node, level = requested, allowed
        names = path.split(".")
        for depth, name in enumerate(names):
            if level is None or name not in level:
                where = ".".join(names[:depth]) or "the top level"
                options = ", ".join(level) if level else "none (not an object)"
                raise ValidationError(
                    {
                        FIELDS_PARAM: [
                            f"Unknown field {path!r}: at {where} the fields are {options}."
                        ]
                    }
                )
            last = depth == len(names) - 1
            if last:
                node[name] = None  # the whole field, even if a sub-path was asked before
            elif name not in node or node[name] is not None:
                node = node.setdefault(name, {})
            else:
                break  # the whole field is already requested
            level = level[name]
    if not requested:
        raise ValidationError({FIELDS_PARAM: ["Name at least one field."]})
    return requested


def prune(data: Any, tree: Tree | None) -> Any:
    """Keep the parts of ``data`` named by ``tree`` (in the serializer's order)."""
    if tree is None or data is None:
        return data
    if isinstance(data, list):
        return [prune(item, tree) for item in data]
    return {name: prune(value, tree[name]) for name, value in data.items() if name in tree}
