from django.urls import include, path

from hepatrial.api.urls import app_name, namespace
from hepatrial.api.urls import urlpatterns as api_patterns

urlpatterns = [
    path("api/v1/", include((api_patterns, app_name), namespace=namespace)),
    path("", include("hepatrial.web.urls")),
]
