from django.urls import path

from tests.testapp import views

urlpatterns = [
    path("whoami/", views.WhoAmIView.as_view()),
    path("widgets/", views.WidgetListCreateView.as_view()),
    path("broken-query/", views.BrokenQueryView.as_view()),
    path("peer-echo/", views.PeerEchoView.as_view()),
    path("plain-crash/", views.plain_django_crash),
]

internal_urlpatterns = [
    path("whoami/", views.InternalWhoAmIView.as_view()),
    path("widgets/", views.InternalWidgetCreateView.as_view()),
]
