from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from hepatrial.web import accounts, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("participants/", views.participants, name="participants"),
    path("participants/<str:screening_number>/", views.participant, name="participant"),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", views.health, name="health"),
    path("readyz", views.ready, name="ready"),
    path("", include("hepatrial.web.enrolment")),
    path("", include("hepatrial.web.capture")),
    path("", include("hepatrial.web.unblinded")),
    path("", include("hepatrial.web.history")),
    path("", include("hepatrial.web.dashboard")),
    path("", include("hepatrial.web.accounts")),
    path("", include("hepatrial.web.sign")),
    path("", include("hepatrial.web.queries")),
    path("", include("hepatrial.web.locks")),
    path("", include("hepatrial.web.sessions")),
    path("", include("hepatrial.web.downloads")),
]
