"""Whitelisted ``ordering`` and the keyset conditions the cursor pagination needs.

Every ordering ends with the primary key, so it is total and a cursor position is
exact. Null placement is explicit and the same on SQLite and PostgreSQL: by default a
missing value sorts as the largest one (PostgreSQL's own rule, so descending orders use
the ``(-pub_year, -id)``-style indexes), or always last where a field says so (an
unknown citation count is not "most cited").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import F, OrderBy, Q
from rest_framework.exceptions import ValidationError

ORDERING_PARAM = "ordering"
MAX_ORDERING_TERMS = 3


@dataclass(frozen=True, slots=True)
class OrderField:
    """An orderable field: its ORM path and where missing values go."""

    path: str
    description: str = ""
    # "high": a null sorts as the largest value; "last": always last; "never": not null.
    nulls: str = "high"


@dataclass(frozen=True, slots=True)
class OrderTerm:
    path: str
    descending: bool
    # None for a column that is never null: no NULLS clause, so that the SQL matches
    # the indexes (an explicit NULLS LAST on "id DESC" would not).
    nulls_first: bool | None = None

    @classmethod
    def of(cls, field: OrderField, descending: bool) -> OrderTerm:
        if field.nulls == "never":
            return cls(field.path, descending, None)
        nulls_first = descending if field.nulls == "high" else False
        return cls(field.path, descending, nulls_first)

    def expression(self) -> OrderBy:
        nulls = {}
        if self.nulls_first is not None:
            nulls = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
        field = F(self.path)
        return field.desc(**nulls) if self.descending else field.asc(**nulls)

    def reversed(self) -> OrderTerm:
        nulls_first = None if self.nulls_first is None else not self.nulls_first
        return OrderTerm(self.path, not self.descending, nulls_first)

    def after(self, value) -> Q:
        """Rows strictly after ``value`` in this term's order."""
        if self.nulls_first is None:
            return Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        if value is None:
            # Nulls first: every non-null comes after; nulls last: nothing does.
            return Q(**{f"{self.path}__isnull": False}) if self.nulls_first else Q(pk__in=[])
        beyond = Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        if not self.nulls_first:
            beyond |= Q(**{f"{self.path}__isnull": True})
        return beyond

    def equal(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


@dataclass(frozen=True, slots=True)
class Ordering:
    name: str  # as requested, e.g. "-year,title"; part of every cursor
    terms: tuple[OrderTerm, ...]

    def order_by(self, reverse: bool = False) -> list[OrderBy]:
        terms = [term.reversed() for term in self.terms] if reverse else self.terms
        return [term.expression() for term in terms]

    def after(self, values: Sequence, reverse: bool = False) -> Q:
        """Rows after the row whose ordering values are ``values`` (before, if reverse)."""
        terms = [term.reversed() for term in self.terms] if reverse else list(self.terms)
        condition = Q(pk__in=[])
        prefix = Q()
        for term, value in zip(terms, values, strict=True):
            condition |= prefix & term.after(value)
            prefix &= term.equal(value)
        return condition

    @property
    def paths(self) -> list[str]:
        return [term.path for term in self.terms]


def resolve_ordering(raw: str | None, fields: Mapping[str, OrderField], default: str) -> Ordering:
    """Parse ``ordering=-year,title``; unknown names are a 400 naming the parameter."""
    text = (raw or "").strip() or default
    terms: list[OrderTerm] = []
    seen: set[str] = set()
    names = [part.strip() for part in text.split(",")]
    if len(names) > MAX_ORDERING_TERMS:
        raise ValidationError(
            {ORDERING_PARAM: [f"At most {MAX_ORDERING_TERMS} comma-separated fields."]}
        )
    for part in names:
        descending = part.startswith("-")
        name = part.removeprefix("-")
        if name not in fields:
            raise ValidationError(
                {
                    ORDERING_PARAM: [
                        f"Unknown ordering {part!r}. Use one or more of "
                        f"{', '.join(sorted(fields))}, each optionally prefixed with '-' "
                        "for descending."
                    ]
                }
            )
        field = fields[name]
        if field.path in seen:
            continue
        seen.add(field.path)
        terms.append(OrderTerm.of(field, descending))
    if "id" not in seen:
        # The tie-breaker follows the first term so the (-pub_year, -id) index serves it.
        terms.append(OrderTerm("id", terms[0].descending))
    return Ordering(",".join(names), tuple(terms))


def ordering_description(fields: Mapping[str, OrderField], default: str, note: str = "") -> str:
    lines = [
        f"Comma-separated, at most {MAX_ORDERING_TERMS}; prefix '-' for descending. "
        f"Default: `{default}`. Ties are broken by id.",
    ]
    for name, field in fields.items():
        if field.description:
            lines.append(f"- `{name}`: {field.description}")
    if note:
        lines.append(note)
    return "\n".join(lines)
