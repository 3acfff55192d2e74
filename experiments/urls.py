from django.urls import path

from . import views

app_name = "experiments"

urlpatterns = [
    path("", views.experiment_list, name="list"),
    path("<slug:key>/", views.dashboard, name="dashboard"),
    path("<slug:key>/results.csv", views.results_csv, name="results_csv"),
    path("<slug:key>/arms/<int:arm_id>/design/", views.design_preview, name="design_preview"),
]
