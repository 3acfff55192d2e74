from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("consent/decide/", views.decide, name="decide"),
    path("consent/not-now/", views.defer, name="defer"),
    path("consent/receipts/<uuid:record_id>/", views.receipt, name="receipt"),
    path("consent/receipts/<uuid:record_id>.json", views.receipt_json, name="receipt_json"),
    path("consent/receipts/<uuid:record_id>/shown/", views.receipt_shown, name="receipt_shown"),
    path("policy/", views.policy_detail, name="policy_current"),
    path("policy/<slug:version>/", views.policy_detail, name="policy"),
    path("settings/privacy/", views.privacy_settings, name="privacy_settings"),
    path("settings/privacy/choice/", views.privacy_change, name="privacy_change"),
]
