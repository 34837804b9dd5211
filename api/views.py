"""Viewsets: validate the request, call a selector or service, serialize.

Shared behaviour lives in ``EvidenceViewSet``: unknown query parameters and bad values
are 400s naming the parameter, ``?format=`` that DRF does not know is a 400 (not DRF's
404), lists are paginated by ``api.pagination`` in a whitelisted ordering, detail
responses carry an ``ETag`` and writes honour ``If-Match`` (412 when stale), and
``fields=`` trims any response.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import transaction
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from api import exports, filters
from api import serializers as s
from api.exceptions import PayloadTooLarge, PreconditionFailed
from api.ordering import (
    MAX_ORDERING_TERMS,
    ORDERING_PARAM,
    OrderField,
    Ordering,
    OrderTerm,
    ordering_description,
    resolve_ordering,
)
from api.pagination import EvidencePagination
from api.parsers import JSONBodyParser, RawUploadParser
from api.permissions import ModelPermissionToRead
from api.renderers import ORJSONRenderer
from api.sparse import FIELDS_PARAM, Tree, parse_fields, prune, serializer_tree
from evidence import selectors
from evidence.models import (
    Appraisal,
    Author,
    Authorship,
    Citation,
    Concept,
    ImportRun,
    ImportStatus,
    Journal,
    Study,
    StudyMeshHeading,
    Work,
)
from evidence.search import RANK_CANDIDATES, RankedMatches, refresh_search_document
from evidence.services import study_import

GROUP_BY_PARAM = "group_by"
FORMAT_PARAM = "format"
MAX_GROUP_BY = 2


@functools.cache
def field_tree_of(serializer_class: type[serializers.BaseSerializer]) -> Tree:
    """The fields ``fields=`` may name, built once per serializer class."""
    return serializer_tree(serializer_class())


def etag_for(data: Any) -> str:
    """A strong ETag: a digest of the full JSON representation."""
    digest = hashlib.blake2b(
        orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str), digest_size=16
    )
    return f'"{digest.hexdigest()}"'


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


class EvidenceViewSet(viewsets.GenericViewSet):
    renderer_classes = [ORJSONRenderer]
    parser_classes = [JSONBodyParser]
    pagination_class = EvidencePagination
    filter_backends = [DjangoFilterBackend]

    ordering_fields: dict[str, OrderField] = {"id": OrderField("id", "Primary key.", nulls="never")}
    default_ordering = "id"
    facets: dict[str, selectors.Facet] = {}
    write_serializer_class: type[serializers.Serializer] | None = None
    # Query parameters an action accepts besides format (lists: filters, paging...).
    action_params: dict[str, tuple[str, ...]] = {}

    # --- request checks ---------------------------------------------------------------

    def get_permission_model(self):
        return self.queryset.model

    def export_formats(self) -> dict:
        return {}

    def perform_content_negotiation(self, request, force=False):
        try:
            requested = request.query_params.get(FORMAT_PARAM)
        except TooManyFieldsSent:
            if not force:
                raise  # api.exceptions makes it a 400
            # Rendering that 400: the query string cannot be read, so the default format.
            requested = None
        if requested is not None and requested in self.export_formats():
            # The view streams the export itself; errors before that are JSON.
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown ?format= with 404; it is a bad parameter. The router
            # also reads a suffix as a format (/works/1.0/ asks for format "0").
            if requested is None:
                requested = self.kwargs.get(FORMAT_PARAM)
            known = ["json", *self.export_formats()]
            raise ValidationError(
                {FORMAT_PARAM: [f"Unknown format {requested!r}; use one of {', '.join(known)}."]}
            ) from None

    def allowed_query_params(self) -> set[str]:
        allowed = {FORMAT_PARAM, *self.action_params.get(self.action, ())}
        if self.action == "list":
            allowed |= {ORDERING_PARAM, FIELDS_PARAM, "page", "page_size", "cursor"}
            if self.facets:
                allowed.add(GROUP_BY_PARAM)
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
        elif self.action == "retrieve":
            allowed.add(FIELDS_PARAM)
        return allowed

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.allowed_query_params())
        if unknown:
            raise ValidationError(
                {
                    name: [
                        "Unknown query parameter here. Allowed: "
                        + ", ".join(sorted(self.allowed_query_params()))
                        + "."
                    ]
                    for name in unknown
                }
            )

    # --- serializers ------------------------------------------------------------------

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"} and self.write_serializer_class:
            return self.write_serializer_class
        return self.serializer_class

    def read_representation(self, instance) -> dict:
        return s.represent(self.serializer_class, instance)

    def field_tree(self) -> Tree:
        return field_tree_of(self.serializer_class)

    def requested_fields(self):
        raw = self.request.query_params.get(FIELDS_PARAM)
        return None if raw is None else parse_fields(raw, self.field_tree())

    # --- lists ------------------------------------------------------------------------

    def get_ordering(self) -> Ordering:
        return resolve_ordering(
            self.request.query_params.get(ORDERING_PARAM),
            self.ordering_fields,
            self.default_ordering,
        )

    def get_group_by(self) -> list[str] | None:
        raw = self.request.query_params.get(GROUP_BY_PARAM)
        if raw is None:
            return None
        names = [name.strip() for name in raw.split(",") if name.strip()]
        problems = [name for name in names if name not in self.facets]
        if problems or not names or len(names) > MAX_GROUP_BY or len(set(names)) < len(names):
            raise ValidationError(
                {
                    GROUP_BY_PARAM: [
                        f"Give one or {MAX_GROUP_BY} different fields among "
                        f"{', '.join(self.facets)}"
                        + (f"; unknown: {', '.join(problems)}" if problems else "")
                        + "."
                    ]
                }
            )
        return names

    def facet_response(self, queryset, names: list[str]) -> Response:
        buckets, truncated = selectors.facet_counts(queryset, self.facets, names)
        return Response({"group_by": names, "results": buckets, "truncated": truncated})

    def list(self, request, *args, **kwargs):
        tree = self.requested_fields()
        queryset = self.filter_queryset(self.get_queryset())
        group_by = self.get_group_by()
        if group_by:
            return self.facet_response(queryset, group_by)
        page = self.paginator.paginate(queryset, request, ordering=self.get_ordering())
        data = s.represent_many(self.get_serializer_class(), page.rows)
        return self.paginator.get_paginated_response(prune(data, tree))

    # --- details and writes -----------------------------------------------------------

    def retrieve(self, request, *args, **kwargs):
        tree = self.requested_fields()
        return self.detail_response(self.read_representation(self.get_object()), tree)

    def detail_response(self, data: dict, tree: Tree | None) -> Response:
        """``data`` trimmed to ``tree``, with the ETag of all of it (304 when the client
        already holds that version)."""
        etag = etag_for(data)
        if_none_match = self.request.headers.get("If-None-Match")
        if if_none_match and _etag_matches(if_none_match, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(prune(data, tree), headers={"ETag": etag})

    def check_if_match(self, instance) -> None:
        header = self.request.headers.get("If-Match")
        if header is None:
            return
        if not _etag_matches(header, etag_for(self.read_representation(instance))):
            raise PreconditionFailed()

    def get_object_for_update(self):
        """The object, with its row locked until the transaction ends, so that the
        If-Match check and the write see the same version."""
        instance = self.get_object()
        model = type(instance)
        list(model.objects.select_for_update().filter(pk=instance.pk).values_list("pk"))
        return self.get_object()

    def refetch(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def written_response(self, instance, code=status.HTTP_200_OK) -> Response:
        data = self.read_representation(self.refetch(instance))
        return Response(data, status=code, headers={"ETag": etag_for(data)})


class ReadWriteViewSet(EvidenceViewSet):
    """Adds create, update, partial_update and destroy (the router routes them)."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = serializer.save()
        return self.written_response(instance, status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        with transaction.atomic():
            instance = self.get_object_for_update()
            self.check_if_match(instance)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            instance = serializer.save()
        return self.written_response(instance)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self.get_object_for_update()
            self.check_if_match(instance)
            instance.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# The actions where ?format= may name an export format.
_LIST_DETAIL = {"list", "retrieve"}


def _parameter(name: str, schema: dict | type, description: str, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description, **kwargs)


def list_parameters(
    viewset: type[EvidenceViewSet], note: str = "", extra_orderings: tuple[str, ...] = ()
) -> list[OpenApiParameter]:
    names = [("-" if desc else "") + name for name in viewset.ordering_fields for desc in (0, 1)]
    params = [
        _parameter(
            ORDERING_PARAM,
            {
                "type": "array",
                "items": {"type": "string", "enum": [*names, *extra_orderings]},
                "maxItems": MAX_ORDERING_TERMS,
            },
            ordering_description(viewset.ordering_fields, viewset.default_ordering, note),
            style="form",
            explode=False,
        ),
        _parameter(
            FIELDS_PARAM,
            {"type": "string", "maxLength": 2000},
            "Sparse fieldset: comma-separated fields to return, dotted for nested ones "
            "(`id,title,appraisal.design`). Unknown fields are a 400.",
        ),
    ]
    if viewset.facets:
        params.append(
            _parameter(
                GROUP_BY_PARAM,
                {
                    "type": "array",
                    "items": {"type": "string", "enum": list(viewset.facets)},
                    "minItems": 1,
                    "maxItems": MAX_GROUP_BY,
                },
                "Instead of a page of results, count the filtered results by one or two of "
                "these fields (`design,pub_year`): `{group_by, results: [{<field>: value, "
                "..., count}], truncated}`, largest counts first, at most 1000 buckets. "
                "Multi-valued fields (concept, categories, MeSH, publication type) count "
                "each row once per value.",
                style="form",
                explode=False,
            )
        )
    return params


def detail_parameters() -> list[OpenApiParameter]:
    return [
        _parameter(
            FIELDS_PARAM,
            {"type": "string", "maxLength": 2000},
            "Sparse fieldset, as on the list (`id,title,appraisal.design`).",
        )
    ]


def _paginated(name: str, item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(allow_null=True),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


def list_or_facets(name: str, item: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    """A list page, or facet counts when group_by is given."""
    proxy = PolymorphicProxySerializer(
        component_name=f"{name}OrFacets",
        serializers=[_paginated(f"Paginated{name}", item), s.FacetResponseSerializer],
        resource_type_field_name=None,
        many=False,
    )
    # Already a page: spectacular must not wrap it in its list and pagination schema.
    set_override(proxy, "many", False)
    return proxy


def crud_schema(viewset, read, write=None, *, facets_name: str | None = None, note: str = ""):
    """extend_schema_view arguments for a standard read/write viewset."""
    write = write or read
    list_response = list_or_facets(facets_name, read) if facets_name else read(many=True)
    return extend_schema_view(
        list=extend_schema(parameters=list_parameters(viewset, note), responses=list_response),
        retrieve=extend_schema(parameters=detail_parameters(), responses=read),
        create=extend_schema(request=write, responses={201: read}),
        update=extend_schema(request=write, responses=read),
        partial_update=extend_schema(request=write, responses=read),
        destroy=extend_schema(responses={204: None}),
    )


# --- studies --------------------------------------------------------------------------

STUDY_ORDERING_FIELDS = {
    "year": OrderField("pub_year", "Publication year; studies without one count as newest."),
    "title": OrderField("title", "Title.", nulls="never"),
    "citation_count": OrderField(
        "citation_count",
        "Citation count reported by the source; unknown counts last.",
        nulls="last",
    ),
    "updated": OrderField("updated_at", "Last change.", nulls="never"),
    "id": OrderField("id", "Primary key.", nulls="never"),
}
RELEVANCE_NOTE = (
    "- `relevance` (the default with `q`; only with `q`, and alone): full-text rank. When "
    f"more than {RANK_CANDIDATES} studies match, the {RANK_CANDIDATES} newest matches are "
    "ranked and the other matches follow them, newest first; to walk every match of a "
    "broad search cheaply, order by `-year`."
)


def summary_item(row: dict) -> dict:
    """The lean list item from a ``selectors.study_summaries`` row."""
    return {
        "id": row["id"],
        "pmid": row["pmid"],
        "doi": row["doi"],
        "pmcid": row["pmcid"],
        "title": row["title"],
        "pub_year": row["pub_year"],
        "journal": row["journal_title"],
        "design": row["appraisal_design"] or None,
        "review_status": row["review_status"],
        "certainty": row["appraisal_certainty"] or None,
    }


class StudyViewSet(ReadWriteViewSet):
    """Studies: lean list, rich detail, citation graph, appraisal, exports."""

    queryset = Study.objects.all()
    serializer_class = s.StudyDetailSerializer
    write_serializer_class = s.StudyWriteSerializer
    filterset_class = filters.StudyFilterSet
    ordering_fields = STUDY_ORDERING_FIELDS
    default_ordering = "-year"
    facets = selectors.STUDY_FACETS
    lookup_value_regex = r"[^/]+"
    action_params = {
        "references": ("page", "page_size", "cursor"),
        "cited_by": ("page", "page_size", "cursor"),
    }

    def export_formats(self) -> dict:
        return exports.formats() if self.action in _LIST_DETAIL else {}

    def get_permission_model(self):
        return Appraisal if self.action == "appraisal" else Study

    def get_queryset(self):
        return selectors.study_queryset()

    def _reference(self) -> selectors.StudyReference:
        """The study the URL names: an id, pmid:<n> or pmcid:<id>."""
        try:
            return selectors.parse_study_reference(self.kwargs["pk"])
        except selectors.InvalidReference as exc:
            raise ValidationError({"id": [str(exc)]}) from None

    def _not_found(self) -> NotFound:
        return NotFound(f"No study {self.kwargs['pk']}.")

    def _find(self, queryset) -> Study:
        instance = queryset.filter(self._reference().study_q()).first()
        if instance is None:
            raise self._not_found()
        return instance

    def get_object(self):
        instance = self._find(self.get_queryset())
        self.check_object_permissions(self.request, instance)
        return instance

    def read_representation(self, instance) -> dict:
        return self._detail(selectors.StudyReference("id", instance.pk))

    def _detail(self, reference: selectors.StudyReference) -> dict:
        # Reads share one representation, so the ETag of a GET is the one If-Match
        # compares with on a write.
        row = selectors.study_detail(reference)
        if row is None:
            raise self._not_found()
        return s.study_detail_item(row)

    def refetch(self, instance):
        return instance  # read_representation reads the study afresh

    def field_tree(self) -> Tree:
        return study_field_tree()

    def search_text(self) -> str:
        return self.request.query_params.get("q", "").strip()

    def list(self, request, *args, **kwargs):
        export = exports.requested(request, self.export_formats())
        tree = None if export else self.requested_fields()
        queryset = self.filter_queryset(selectors.study_queryset())
        group_by = self.get_group_by()
        if group_by:
            return self.facet_response(queryset, group_by)
        if export:
            return exports.response(export, queryset, filename="evidb-studies")
        q = self.search_text()
        raw_ordering = (request.query_params.get(ORDERING_PARAM) or "").strip()
        lean = tree is None or (
            set(tree) <= set(s.STUDY_LIST_FIELDS) and all(v is None for v in tree.values())
        )
        if "relevance" in raw_ordering.split(",") or (q and not raw_ordering):
            if not q or raw_ordering not in {"", "relevance"}:
                raise ValidationError(
                    {ORDERING_PARAM: ["relevance orders by full-text rank: only with q, alone."]}
                )
            matches = RankedMatches(queryset, q)
            page = self.paginator.paginate_slices(
                matches.slice, request, name="relevance", count_queryset=queryset
            )
            data = self.studies_in_order(page.rows, tree if not lean else None)
            return self.paginator.get_paginated_response(prune(data, tree))
        ordering = resolve_ordering(raw_ordering, self.ordering_fields, self.default_ordering)
        if lean:
            rows = selectors.study_summaries(queryset, extra=ordering.paths)
            page = self.paginator.paginate(
                rows, request, ordering=ordering, count_queryset=queryset
            )
            data = [summary_item(row) for row in page.rows]
        else:
            page = self.paginator.paginate(
                selectors.study_detail_values(queryset, extra=ordering.paths),
                request,
                ordering=ordering,
                count_queryset=queryset,
                fetch=lambda rows: selectors.attach_study_parts(list(rows), tree),
            )
            data = [s.study_detail_item(row, only=tree) for row in page.rows]
        return self.paginator.get_paginated_response(prune(data, tree))

    def studies_in_order(self, ids: list[int], tree) -> list[dict]:
        """The list items (lean, or the parts ``tree`` names) of studies ``ids``, in order."""
        if tree is None:
            found = {
                row["id"]: summary_item(row)
                for row in selectors.study_summaries(selectors.study_queryset().filter(pk__in=ids))
            }
        else:
            rows = selectors.study_detail_values(selectors.study_queryset().filter(pk__in=ids))
            found = {
                row["id"]: s.study_detail_item(row, only=tree)
                for row in selectors.attach_study_parts(list(rows), tree)
            }
        return [found[pk] for pk in ids if pk in found]

    def retrieve(self, request, *args, **kwargs):
        export = exports.requested(request, self.export_formats())
        if export:
            study = self._plain_study()
            return exports.response(
                export, Study.objects.filter(pk=study.pk), filename=f"evidb-study-{study.pk}"
            )
        tree = self.requested_fields()
        return self.detail_response(self._detail(self._reference()), tree)

    # --- the citation graph ------------------------------------------------------------

    def _citation_page(self, queryset, side: str) -> Response:
        ordering = Ordering(
            "position",
            (OrderTerm("position", False, nulls_first=False), OrderTerm("id", False)),
        )
        page = self.paginator.paginate(queryset, self.request, ordering=ordering)
        data = s.represent_many(s.CitationEntrySerializer, page.rows, side=side)
        return self.paginator.get_paginated_response(data)

    def _plain_study(self) -> Study:
        return self._find(Study.objects.only("pk"))

    @extend_schema(
        summary="The study's reference list",
        description="Every work the study cites, in the database or not, in list order.",
        responses=s.CitationEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def references(self, request, *args, **kwargs):
        return self._citation_page(selectors.study_references(self._plain_study()), "cited")

    @extend_schema(
        summary="Works citing the study",
        description="Every known citing work, in the database or not.",
        responses=s.CitationEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="cited-by", filter_backends=[])
    def cited_by(self, request, *args, **kwargs):
        return self._citation_page(selectors.study_cited_by(self._plain_study()), "citing")

    # --- appraisal ---------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="The study's appraisal",
        responses={
            200: s.AppraisalSerializer,
            404: OpenApiResponse(description="Not appraised yet."),
        },
    )
    @extend_schema(
        methods=["PUT", "PATCH"],
        summary="Create or change the study's appraisal",
        request=s.AppraisalSerializer,
        responses={200: s.AppraisalSerializer, 201: s.AppraisalSerializer},
    )
    @extend_schema(methods=["DELETE"], summary="Delete the appraisal", responses={204: None})
    @action(
        detail=True,
        methods=["get", "put", "patch", "delete"],
        filter_backends=[],
        pagination_class=None,
        serializer_class=s.AppraisalSerializer,
    )
    def appraisal(self, request, *args, **kwargs):
        if request.method == "GET":
            appraisal = selectors.appraisal_for(self._plain_study())
            if appraisal is None:
                raise NotFound("This study has not been appraised yet.")
            data = s.represent(s.AppraisalSerializer, appraisal)
            return Response(data, headers={"ETag": etag_for(data)})
        with transaction.atomic():
            study = self._plain_study()
            list(Study.objects.select_for_update().filter(pk=study.pk).values_list("pk"))
            appraisal = selectors.appraisal_for(study)
            header = request.headers.get("If-Match")
            if header is not None:
                current = (
                    etag_for(s.represent(s.AppraisalSerializer, appraisal)) if appraisal else None
                )
                if current is None and header.strip() != "*":
                    raise PreconditionFailed("If-Match given but the study has no appraisal.")
                if current is not None and not _etag_matches(header, current):
                    raise PreconditionFailed()
            if request.method == "DELETE":
                if appraisal is None:
                    raise NotFound("This study has not been appraised yet.")
                appraisal.delete()
                return Response(status=status.HTTP_204_NO_CONTENT)
            created = appraisal is None
            if created and not request.user.has_perm("evidence.add_appraisal"):
                raise PermissionDenied("Creating an appraisal needs evidence.add_appraisal.")
            serializer = s.AppraisalSerializer(
                appraisal,
                data=request.data,
                partial=request.method == "PATCH" and not created,
                context={**self.get_serializer_context(), "study": study},
            )
            serializer.is_valid(raise_exception=True)
            appraisal = serializer.save()
        data = s.represent(s.AppraisalSerializer, selectors.appraisal_for(study))
        return Response(
            data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"ETag": etag_for(data)},
        )


@functools.cache
def study_field_tree() -> Tree:
    tree = dict(serializer_tree(s.StudyDetailSerializer()))
    tree["appraisal"] = serializer_tree(s.AppraisalSerializer())
    return tree


STUDY_LIST_DESCRIPTION = (
    "Filtered, searchable list of studies (lean items; `fields=` can ask for any part "
    "of the detail). Pagination: cursor by default (`next` links, no count), or "
    "`page=N` with a count up to 10,000. `format=ris|bibtex|nbib|csl-json|csv|evidb-json` "
    "streams the whole filtered set as a file instead (in id order). `group_by=` returns "
    "facet counts instead."
)


def _export_responses(base) -> dict:
    responses = {(200, "application/json"): base}
    for fmt in exports.formats().values():
        if fmt.media_type != "application/json":
            responses[(200, fmt.media_type)] = OpenApiResponse(
                OpenApiTypes.STR, description=f"{fmt.name} export (attachment)."
            )
    return responses


def _format_parameter(what: str) -> OpenApiParameter:
    return _parameter(
        FORMAT_PARAM,
        {"type": "string", "enum": ["json", *exports.formats()]},
        f"`json` (default) or an export format: the {what} as a file download, streamed.",
    )


extend_schema_view(
    list=extend_schema(
        description=STUDY_LIST_DESCRIPTION,
        parameters=[
            *list_parameters(StudyViewSet, RELEVANCE_NOTE, ("relevance",)),
            _format_parameter("filtered studies"),
        ],
        responses=_export_responses(list_or_facets("StudyList", s.StudyListSerializer)),
    ),
    retrieve=extend_schema(
        description="The whole study. Look it up by id, `pmid:<n>` or `pmcid:<id>`.",
        parameters=[
            *detail_parameters(),
            _format_parameter("study"),
            OpenApiParameter(
                "id",
                {"type": "string", "pattern": r"^(\d+|pmid:\d+|pmcid:(PMC)?\d+)$"},
                OpenApiParameter.PATH,
                description="Study id, pmid:<n> or pmcid:<id>.",
            ),
        ],
        responses=_export_responses(s.StudyDetailSerializer),
    ),
    create=extend_schema(request=s.StudyWriteSerializer, responses={201: s.StudyDetailSerializer}),
    update=extend_schema(request=s.StudyWriteSerializer, responses=s.StudyDetailSerializer),
    partial_update=extend_schema(request=s.StudyWriteSerializer, responses=s.StudyDetailSerializer),
    destroy=extend_schema(responses={204: None}),
)(StudyViewSet)


# --- curated items and reference data --------------------------------------------------

YEAR_ORDERING = {
    "year": OrderField("study__pub_year", "The study's publication year."),
    "id": OrderField("id", "Primary key.", nulls="never"),
}


class _ListSerializerMixin:
    list_serializer_class: type[serializers.Serializer]

    def get_serializer_class(self):
        if self.action == "list":
            return self.list_serializer_class
        return super().get_serializer_class()

    def field_tree(self) -> Tree:
        return field_tree_of(self.list_serializer_class)

    def read_representation(self, instance) -> dict:
        return s.represent(self.list_serializer_class, instance)

    def get_queryset(self):
        return super().get_queryset().select_related("study__journal", "study__appraisal")


class LimitationViewSet(_ListSerializerMixin, ReadWriteViewSet):
    queryset = selectors.limitation_queryset()
    serializer_class = s.LimitationSerializer
    list_serializer_class = s.LimitationListSerializer
    filterset_class = filters.LimitationFilterSet
    ordering_fields = YEAR_ORDERING
    default_ordering = "-year"
    facets = selectors.LIMITATION_FACETS


class ResearchGapViewSet(_ListSerializerMixin, ReadWriteViewSet):
    queryset = selectors.research_gap_queryset()
    serializer_class = s.ResearchGapSerializer
    list_serializer_class = s.ResearchGapListSerializer
    filterset_class = filters.ResearchGapFilterSet
    ordering_fields = YEAR_ORDERING
    default_ordering = "-year"
    facets = selectors.RESEARCH_GAP_FACETS


class EffectSizeViewSet(_ListSerializerMixin, ReadWriteViewSet):
    queryset = selectors.effect_size_queryset()
    serializer_class = s.EffectSizeSerializer
    list_serializer_class = s.EffectSizeListSerializer
    filterset_class = filters.EffectSizeFilterSet
    ordering_fields = YEAR_ORDERING
    default_ordering = "-year"
    facets = selectors.EFFECT_SIZE_FACETS


class JournalViewSet(ReadWriteViewSet):
    queryset = Journal.objects.all()
    serializer_class = s.JournalSerializer
    filterset_class = filters.JournalFilterSet
    ordering_fields = {
        "title": OrderField("title", "Title.", nulls="never"),
        "id": OrderField("id", "Id.", nulls="never"),
    }
    default_ordering = "title"


class AuthorViewSet(ReadWriteViewSet):
    queryset = Author.objects.all()
    serializer_class = s.AuthorSerializer
    filterset_class = filters.AuthorFilterSet
    ordering_fields = {
        "last_name": OrderField("last_name", "Last name.", nulls="never"),
        "id": OrderField("id", "Id.", nulls="never"),
    }
    default_ordering = "last_name"


class ConceptViewSet(ReadWriteViewSet):
    queryset = Concept.objects.all()
    serializer_class = s.ConceptSerializer
    filterset_class = filters.ConceptFilterSet
    ordering_fields = {
        "name": OrderField("name", "Name.", nulls="never"),
        "id": OrderField("id", "Id.", nulls="never"),
    }
    default_ordering = "name"


class AuthorshipViewSet(ReadWriteViewSet):
    queryset = Authorship.objects.all()
    serializer_class = s.AuthorshipSerializer
    filterset_class = filters.AuthorshipFilterSet
    ordering_fields = {
        "position": OrderField("position", "Position on the study.", nulls="never"),
        "id": OrderField("id", "Id.", nulls="never"),
    }


class MeshHeadingViewSet(ReadWriteViewSet):
    queryset = StudyMeshHeading.objects.select_related("descriptor")
    serializer_class = s.StudyMeshHeadingSerializer
    filterset_class = filters.MeshHeadingFilterSet

    def destroy(self, request, *args, **kwargs):
        study_id = self.get_object().study_id
        response = super().destroy(request, *args, **kwargs)
        refresh_search_document(study_id)
        return response


class WorkViewSet(ReadWriteViewSet):
    queryset = Work.objects.all()
    serializer_class = s.WorkSerializer
    filterset_class = filters.WorkFilterSet


class CitationViewSet(ReadWriteViewSet):
    queryset = Citation.objects.all()
    serializer_class = s.CitationSerializer
    filterset_class = filters.CitationFilterSet


for _viewset, _read, _write, _facets in (
    (LimitationViewSet, s.LimitationListSerializer, s.LimitationSerializer, "LimitationList"),
    (ResearchGapViewSet, s.ResearchGapListSerializer, s.ResearchGapSerializer, "ResearchGapList"),
    (EffectSizeViewSet, s.EffectSizeListSerializer, s.EffectSizeSerializer, "EffectSizeList"),
    (JournalViewSet, s.JournalSerializer, None, None),
    (AuthorViewSet, s.AuthorSerializer, None, None),
    (ConceptViewSet, s.ConceptSerializer, None, None),
    (AuthorshipViewSet, s.AuthorshipSerializer, None, None),
    (MeshHeadingViewSet, s.StudyMeshHeadingSerializer, None, None),
    (WorkViewSet, s.WorkSerializer, None, None),
    (CitationViewSet, s.CitationSerializer, None, None),
):
    crud_schema(_viewset, _read, _write, facets_name=_facets)(_viewset)


# --- imports ----------------------------------------------------------------------------

IMPORT_PARAMS = ("dry_run", "on_duplicate", "skip_invalid", "filename")


class ImportRunViewSet(EvidenceViewSet):
    """Past import runs (authenticated users with evidence.view_importrun) and new
    imports (evidence.add_importrun)."""

    queryset = selectors.import_run_queryset()
    serializer_class = s.ImportRunSerializer
    filterset_class = filters.ImportRunFilterSet
    permission_classes = [ModelPermissionToRead]
    parser_classes = [MultiPartParser, RawUploadParser]
    ordering_fields = {
        "started": OrderField("started_at", "Start time.", nulls="never"),
        "id": OrderField("id", "Id.", nulls="never"),
    }
    default_ordering = "-started"
    action_params = {"create": IMPORT_PARAMS}

    def get_permission_model(self):
        return ImportRun

    def perform_content_negotiation(self, request, force=False):
        # On POST, ?format= names the input format, not the response's.
        if request.method == "POST":
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        summary="Import a citation file",
        description=(
            "Send the file as multipart field `file`, or as the raw request body (name "
            "it with `?filename=` or a Content-Disposition header). Options may be "
            "query parameters or form fields. 201 with the run's report when it "
            "succeeded (or was a dry run), 400 with the report when the file was "
            "refused, 413 above EVIDB_MAX_UPLOAD_BYTES."
        ),
        request={
            "multipart/form-data": s.ImportRequestSerializer,
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        parameters=[
            _parameter(
                FORMAT_PARAM,
                {"type": "string", "enum": exports.import_formats()},
                "Input format (default: detected from the content).",
            ),
            _parameter("dry_run", OpenApiTypes.BOOL, "Parse and match, change nothing."),
            _parameter(
                "on_duplicate",
                {"type": "string", "enum": ["update", "skip"]},
                "What to do with a record already in the database.",
            ),
            _parameter(
                "skip_invalid",
                OpenApiTypes.BOOL,
                "Import the valid records and list the invalid ones.",
            ),
            _parameter(
                "filename",
                {"type": "string", "maxLength": 500},
                "Name of a raw-body upload (its extension can break format ties).",
            ),
        ],
        responses={
            201: s.ImportRunSerializer,
            400: s.ImportRunSerializer,
            413: OpenApiResponse(description="The file is larger than EVIDB_MAX_UPLOAD_BYTES."),
        },
    )
    def create(self, request, *args, **kwargs):
        limit = settings.EVIDB_MAX_UPLOAD_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(
                f"The upload is {int(declared)} bytes; the limit is {limit} bytes "
                "(EVIDB_MAX_UPLOAD_BYTES)."
            )
        options = {key: request.query_params[key] for key in request.query_params}
        if request.content_type.startswith("multipart/"):
            options.update({key: request.data[key] for key in request.data if key != "file"})
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None:
            upload = request.FILES.get("file")
        name = getattr(upload, "name", None)  # None for a form field that is not a file
        if not options.get("filename") and name:
            # A name from Content-Disposition is checked like ?filename=.
            options["filename"] = name
        params = s.ImportRequestSerializer(data={**options, "file": upload})
        params.is_valid(raise_exception=True)
        fmt = params.validated_data["format"]
        if fmt != "auto" and fmt not in exports.import_formats():
            raise ValidationError(
                {
                    FORMAT_PARAM: [
                        f"Unknown input format {fmt!r}; use one of "
                        f"{', '.join(exports.import_formats())}."
                    ]
                }
            )
        upload = params.validated_data["file"]
        try:
            run = study_import(
                stream=upload,
                source_name=params.validated_data.get("filename") or "upload",
                format=fmt,
                user=request.user,
                dry_run=params.validated_data["dry_run"],
                on_duplicate=params.validated_data["on_duplicate"],
                skip_invalid=params.validated_data["skip_invalid"],
            )
        finally:
            upload.close()
        data = s.represent(s.ImportRunSerializer, run)
        ok = run.status in {ImportStatus.SUCCEEDED, ImportStatus.DRY_RUN}
        return Response(
            data,
            status=status.HTTP_201_CREATED if ok else status.HTTP_400_BAD_REQUEST,
            headers={"Location": request.build_absolute_uri(f"{run.pk}/")},
        )


extend_schema_view(
    list=extend_schema(parameters=list_parameters(ImportRunViewSet)),
    retrieve=extend_schema(parameters=detail_parameters()),
)(ImportRunViewSet)
