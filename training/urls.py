from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("settings/data/export/", views.data_export, name="data_export"),
    path("settings/account/delete/", views.account_delete, name="account_delete"),
]
