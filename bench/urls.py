"""The product's URLs plus the bench-only baselines (bench.settings.ROOT_URLCONF)."""

from django.urls import path

from config.urls import urlpatterns as product_urlpatterns

from . import views

urlpatterns = [
    path("bench/minimal/", views.minimal, name="bench_minimal"),
    path("bench/insert/", views.insert, name="bench_insert"),
    *product_urlpatterns,
]
