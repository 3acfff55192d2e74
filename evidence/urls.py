from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("evidence/verify/", views.verify_help, name="verify_help"),
    path("evidence/verify_receipt.py", views.verifier_download, name="verifier_download"),
    path("evidence/public-key", views.public_key, name="public_key"),
    path("evidence/signed-heads/latest.json", views.latest_signed_head, name="latest_head"),
    path("evidence/signed-heads/<int:tree_size>.json", views.signed_head, name="signed_head"),
]
