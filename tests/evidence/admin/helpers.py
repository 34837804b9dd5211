"""Build an admin change form's POST data from the rendered page, as a browser would."""

from __future__ import annotations

from typing import Any

from django import forms


def _field_values(form, prefix_name) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        name = prefix_name(bound)
        if value is None:
            if not isinstance(
                bound.field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)
            ):
                data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    return data


def change_form_data(response) -> dict[str, Any]:
    """Every field of the main form and of each inline formset, as currently rendered."""
    context = response.context
    data = _field_values(context["adminform"].form, lambda bound: bound.html_name)
    for inline_admin_formset in context["inline_admin_formsets"]:
        formset = inline_admin_formset.formset
        management = formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{formset.prefix}-{name}"] = str(management[name].value())
        for form in formset.forms:
            # Unchanged extra forms are sent as the browser sends them: with their
            # initial values, which the formset recognises as "not filled in".
            data.update(_field_values(form, lambda bound: bound.html_name))
    return data


def formset_prefix(response, model_name: str) -> str:
    for inline_admin_formset in response.context["inline_admin_formsets"]:
        if inline_admin_formset.formset.model._meta.model_name == model_name:
            return inline_admin_formset.formset.prefix
    raise KeyError(model_name)


def add_inline_row(data: dict[str, Any], prefix: str, values: dict[str, Any]) -> int:
    """Append a new row to formset ``prefix``; returns its index."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for key, value in values.items():
        data[f"{prefix}-{index}-{key}"] = value
    return index
