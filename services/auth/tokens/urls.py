"""Routes of the tokens app: sign-in, refresh, logout, keys, discovery; internal verify, service tokens."""

from django.urls import path

from tokens import views

urlpatterns = [
    path("token/", views.TokenObtainView.as_view(), name="token"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks"),
    path(".well-known/openid-configuration", views.DiscoveryView.as_view(), name="openid-configuration"),
]

internal_urlpatterns = [
    path("verify", views.verify, name="verify"),
    path("service-token", views.ServiceTokenView.as_view(), name="service-token"),
]
