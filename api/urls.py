"""The v1 router: one resource per viewset, plus the API root listing them."""

from __future__ import annotations

from rest_framework.routers import APIRootView, DefaultRouter

from api import views
from api.renderers import ORJSONRenderer


class EvidbRootView(APIRootView):
    """EviDB API v1: the resources below; the schema is at /api/schema/."""

    renderer_classes = [ORJSONRenderer]


class Router(DefaultRouter):
    APIRootView = EvidbRootView


router = Router()
router.register("studies", views.StudyViewSet, basename="study")
router.register("limitations", views.LimitationViewSet, basename="limitation")
router.register("research-gaps", views.ResearchGapViewSet, basename="research-gap")
router.register("effect-sizes", views.EffectSizeViewSet, basename="effect-size")
router.register("journals", views.JournalViewSet, basename="journal")
router.register("authors", views.AuthorViewSet, basename="author")
router.register("concepts", views.ConceptViewSet, basename="concept")
router.register("authorships", views.AuthorshipViewSet, basename="authorship")
router.register("mesh-headings", views.MeshHeadingViewSet, basename="mesh-heading")
router.register("works", views.WorkViewSet, basename="work")
router.register("citations", views.CitationViewSet, basename="citation")
router.register("imports", views.ImportRunViewSet, basename="import-run")

urlpatterns = router.urls
