"""Pages: history (thin views over the edc services)."""

from django.http import Http404
from django.urls import path


def item_history(request, screening_number, event_oid, form_oid, item_oid):
    raise Http404("not built yet")


urlpatterns: list = [
    path(
        "participants/<str:screening_number>/visits/<str:event_oid>/forms/<str:form_oid>/"
        "items/<str:item_oid>/history/",
        item_history,
        name="item_history",
    ),
]
