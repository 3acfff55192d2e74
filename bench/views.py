"""Baselines for bench/load.py: the cheapest page and the cheapest write this stack can serve.

Both go through the same middleware as the product (sessions, CSRF, auth), are signed in,
and stay open past the consent gate like the decision screen itself (consent.gate).
"""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

# A table of its own, so the baseline write touches no index or trigger of the product's.
BENCH_ROW_DDL = """
CREATE TABLE IF NOT EXISTS bench_row (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL,
    created_at timestamptz NOT NULL,
    note text NOT NULL
)
"""


@login_required
@require_GET
def minimal(request: HttpRequest) -> HttpResponse:
    return render(request, "bench/minimal.html")


@login_required
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    """One row, one INSERT: what any form post that records something costs at least."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_row (user_id, created_at, note) VALUES (%s, %s, %s)",
            [request.user.pk, timezone.now(), request.POST.get("note", "")[:100]],
        )
    response = HttpResponse(status=303)
    response["Location"] = "/bench/minimal/"
    return response
