from django.urls import include, path
from django.views.generic import RedirectView

from hepatrial.api.urls import app_name, namespace
from hepatrial.api.urls import urlpatterns as api_patterns

urlpatterns = [
    path("api/v1/", include((api_patterns, app_name), namespace=namespace)),
    # The interactive page of the current version, where the issue and the docs name it.
    path("api/docs", RedirectView.as_view(pattern_name="api:openapi-view"), name="api_docs"),
    path("", include("hepatrial.web.urls")),
]
