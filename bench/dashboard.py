"""Benchmark the experiment dashboard's computation against hand-written SQL, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres python bench/dashboard.py
    python bench/dashboard.py --exposures 1000000 --repeat 3      # the default size

Needs PostgreSQL. Creates (dropping it first) its own database, ``bench_dashboard``
by default, on the server DATABASE_URL points at; nothing else is touched. With
``--reuse`` an existing database of the same size is kept (no regeneration).

Data, generated set-based with ``generate_series``: one running experiment with
three arms, N users each assigned and exposed once over 28 days, about 88% of
them deciding on the experiment's surface (opt-in rates differing by arm, some
toggle touches, "Learn more" openings, decision times with a long tail) and
about 5% of opt-ins reversed in privacy settings within a week. Consent records
are inserted directly, so their ``record_hash`` is a placeholder, not a chain:
this database is for timing, never for evidence.

It times (best of ``--repeat``, alternating):

  (a) the dashboard computation, ``experiments.analysis.experiment_results``: every
      query the page runs (arms with assigned/exposed counts, the per-arm decision
      aggregate, exposures by day) plus the statistics;
  (b) hand-written SQL producing the same numbers: GROUP BY with FILTER,
      DISTINCT ON for first decisions, percentile_cont/percentile_disc;

checks that both give identical counts, and prints (a)/(b) (target <= 2).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# Fixed clock: identical data and identical "now" for every measurement.
NOW = datetime(2027, 3, 1, tzinfo=UTC)
START = NOW - timedelta(days=28)
KEY = "bench-dashboard"


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def django_setup(url: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def database_exists(base_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def create_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# A uniform number in [0, 1) from the row number and a salt: reproducible, set-based.
UNIFORM = "(('x' || substr(md5(g::text || '{salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)"


def u(salt: str, column: str = "g") -> str:
    return UNIFORM.replace("g::text", f"{column}::text").format(salt=salt)


def generate(exposures: int) -> float:
    """Users, one experiment with three arms, assignments, exposures, decisions and reversals."""
    from django.db import connection

    from consent.models import ModalVariant, Policy
    from experiments.models import Arm, Experiment
    from experiments.services import experiment_launch

    started = time.perf_counter()
    policy = Policy.objects.create(
        version="bench",
        title="Bench policy",
        summary="Bench.",
        body="Bench.",
        effective_at=START - timedelta(days=1),
        decision_deadline=NOW + timedelta(days=30),
    )
    experiment = Experiment.objects.create(
        key=KEY,
        name="Bench: three designs",
        surface="first_login",
        audience="new_users",
        countries=["US"],
    )
    keys = ["two_buttons", "accept_toggle_on", "accept_toggle_off"]
    variants = {v.key: v for v in ModalVariant.objects.filter(key__in=keys)}
    arms = [
        Arm.objects.create(
            experiment=experiment, variant=variants[k], weight=1, is_control=i == 0, position=i
        )
        for i, k in enumerate(keys)
    ]
    experiment_launch(experiment=experiment, now=START)
    a0, a1, a2 = (arm.pk for arm in arms)
    span = (NOW - START - timedelta(hours=1)).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, email, display_name, country,
                                       is_staff, is_active, date_joined)
            SELECT g, '!', false, 'bench' || g || '@example.com', '', 'US', false, true,
                   %(start)s + (g::float / %(n)s * %(span)s) * interval '1 second'
            FROM generate_series(1, %(n)s) AS g
            """,
            {"start": START, "n": exposures, "span": span},
        )
        # Arms in turn (weights 1:1:1); the bench times analysis, not hashing.
        arm_of = f"(ARRAY[{a0}, {a1}, {a2}])[1 + g %% 3]"
        for table, column in (
            ("experiments_assignment", "assigned_at"),
            ("experiments_exposure", "exposed_at"),
        ):
            cursor.execute(
                f"""
                INSERT INTO {table} (experiment_id, user_id, arm_id, phase, {column})
                SELECT %(experiment)s, g, {arm_of}, 1, u.date_joined + interval '5 seconds'
                FROM generate_series(1, %(n)s) AS g JOIN accounts_user u ON u.id = g
                """,
                {"experiment": experiment.pk, "n": exposures},
            )
        # First decisions: 88% decide; opt-in 35% / 89% / 19% by arm; seconds lognormal-ish
        # with a 1% tail of hours; toggle touched on toggle designs; Learn more ~10%.
        cursor.execute(
            f"""
            INSERT INTO consent_consentrecord
                (id, user_id, policy_id, policy_digest, choice, surface, variant_id, arm_id, shown,
                 toggle_default, toggle_touched, learn_more_opened, shown_at, decided_at, form_key,
                 ip_hash, user_agent, locale, jurisdiction, previous_id, record_hash)
            SELECT gen_random_uuid(), x.user_id, %(policy)s, %(digest)s,
                   CASE WHEN {u("choice", "x.user_id")} < (CASE x.arm_id WHEN {a0} THEN 0.35
                        WHEN {a1} THEN 0.89 ELSE 0.19 END) THEN 'opt_in' ELSE 'opt_out' END,
                   'first_login', a.variant_id, x.arm_id, '{{}}'::jsonb,
                   CASE x.arm_id WHEN {a0} THEN NULL WHEN {a1} THEN true ELSE false END,
                   x.arm_id <> {a0} AND {u("touch", "x.user_id")} < 0.15,
                   {u("learn", "x.user_id")} < 0.10,
                   x.exposed_at,
                   x.exposed_at + (1 + exp(2 + {u("secs", "x.user_id")} * 2)
                        + CASE WHEN {u("tail", "x.user_id")} < 0.01 THEN 7200 ELSE 0 END)
                        * interval '1 second',
                   md5(x.user_id::text || 'form'), '', 'bench', 'en', 'US', NULL,
                   md5(x.user_id::text || 'a') || md5(x.user_id::text || 'b')
            FROM experiments_exposure x JOIN experiments_arm a ON a.id = x.arm_id
            WHERE x.experiment_id = %(experiment)s AND {u("decides", "x.user_id")} < 0.88
            """,
            {"policy": policy.pk, "digest": policy.text_digest, "experiment": experiment.pk},
        )
        # Reversals: 5% of opt-ins opt out in privacy settings 0.5-6.5 days later.
        cursor.execute(
            f"""
            INSERT INTO consent_consentrecord
                (id, user_id, policy_id, policy_digest, choice, surface, variant_id, arm_id, shown,
                 toggle_default, toggle_touched, learn_more_opened, shown_at, decided_at, form_key,
                 ip_hash, user_agent, locale, jurisdiction, previous_id, record_hash)
            SELECT gen_random_uuid(), r.user_id, r.policy_id, r.policy_digest, 'opt_out', 'settings',
                   NULL, NULL, '{{}}'::jsonb, NULL, false, false,
                   r.decided_at + interval '12 hours', r.decided_at + interval '12 hours'
                        + {u("when", "r.user_id")} * interval '6 days',
                   md5(r.user_id::text || 'form2'), '', 'bench', 'en', 'US', r.id,
                   md5(r.user_id::text || 'c') || md5(r.user_id::text || 'd')
            FROM consent_consentrecord r
            WHERE r.choice = 'opt_in' AND r.surface = 'first_login'
              AND {u("reverses", "r.user_id")} < 0.05
            """
        )
        for table in ("accounts_user", "experiments_assignment", "experiments_exposure"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute(
            "VACUUM ANALYZE accounts_user, experiments_assignment, experiments_exposure, consent_consentrecord"
        )
    return time.perf_counter() - started


RAW_ARMS = """
SELECT a.id,
       (SELECT count(*) FROM experiments_assignment s
         WHERE s.experiment_id = %(e)s AND s.phase = %(p)s AND s.arm_id = a.id),
       (SELECT count(*) FROM experiments_exposure x
         WHERE x.experiment_id = %(e)s AND x.phase = %(p)s AND x.arm_id = a.id)
FROM experiments_arm a WHERE a.experiment_id = %(e)s ORDER BY a.position, a.id
"""

RAW_DECISIONS = """
WITH firsts AS MATERIALIZED (
    SELECT DISTINCT ON (x.user_id)
           x.user_id, x.arm_id, r.choice, r.toggle_touched, r.learn_more_opened, r.decided_at,
           r.decided_at - r.shown_at AS time_to_decide
    FROM experiments_exposure x
    JOIN consent_consentrecord r
      ON r.user_id = x.user_id AND r.surface = %(surface)s
     AND r.decided_at >= x.exposed_at AND r.decided_at < %(end)s
    WHERE x.experiment_id = %(e)s AND x.phase = %(p)s
    ORDER BY x.user_id, r.decided_at, r.id
), caps AS (
    SELECT arm_id, percentile_disc(0.99) WITHIN GROUP (ORDER BY time_to_decide) AS cap
    FROM firsts GROUP BY arm_id
)
SELECT f.arm_id,
       count(*),
       count(*) FILTER (WHERE f.choice = 'opt_in'),
       count(*) FILTER (WHERE f.toggle_touched),
       count(*) FILTER (WHERE f.learn_more_opened),
       count(*) FILTER (WHERE f.choice = 'opt_in' AND f.decided_at <= %(matured)s),
       count(*) FILTER (WHERE f.choice = 'opt_in' AND f.decided_at <= %(matured)s AND EXISTS (
           SELECT 1 FROM consent_consentrecord o
           WHERE o.user_id = f.user_id AND o.choice = 'opt_out'
             AND o.decided_at > f.decided_at AND o.decided_at <= f.decided_at + interval '7 days')),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY f.time_to_decide),
       avg(LEAST(f.time_to_decide, c.cap))
FROM firsts f JOIN caps c USING (arm_id)
GROUP BY f.arm_id
"""

RAW_TIMELINE = """
SELECT (x.exposed_at AT TIME ZONE 'UTC')::date AS day, x.arm_id, count(*)
FROM experiments_exposure x
WHERE x.experiment_id = %(e)s AND x.phase = %(p)s
GROUP BY 1, 2 ORDER BY 1, 2
"""


def raw_counts(experiment) -> dict:
    from django.db import connection

    params = {
        "e": experiment.pk,
        "p": experiment.phase,
        "surface": experiment.surface,
        "end": NOW,
        "matured": NOW - timedelta(days=7),
    }
    with connection.cursor() as cursor:
        cursor.execute(RAW_ARMS, params)
        arms = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(RAW_DECISIONS, params)
        decisions = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(RAW_TIMELINE, params)
        timeline = cursor.fetchall()
    return {"arms": arms, "decisions": decisions, "timeline": timeline}


def dashboard(experiment):
    from experiments.analysis import experiment_results

    return experiment_results(experiment=experiment, now=NOW)


def same_numbers(results, raw: dict) -> None:
    """Both methods must agree on every count (and on the time-to-decide summaries)."""
    for arm in results.arms:
        assigned, exposed = raw["arms"][arm.arm.pk]
        d = arm.decisions
        decided, opt_ins, touched, learn, matured, reversals, median, mean = raw["decisions"][
            arm.arm.pk
        ]
        assert (arm.assigned, arm.exposed) == (assigned, exposed), arm.variant.key
        assert (d.decided, d.opt_ins, d.toggle_touched, d.learn_more_opened) == (
            decided,
            opt_ins,
            touched,
            learn,
        )
        assert (d.opt_ins_matured, d.reversals) == (matured, reversals), arm.variant.key
        assert abs(d.median_seconds - median.total_seconds()) < 1e-3, (d.median_seconds, median)
        assert abs(d.winsorized_mean_seconds - mean.total_seconds()) < 1e-3, (
            d.winsorized_mean_seconds,
            mean,
        )
    final = results.timeline[-1].cumulative
    assert sum(final.values()) == sum(row[2] for row in raw["timeline"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", default="bench_dashboard")
    parser.add_argument(
        "--reuse", action="store_true", help="Keep an existing database of this size."
    )
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL server, e.g. postgres://root@127.0.0.1:5432/postgres"
        )
    url = database_url(base_url, args.database)
    fresh = not (args.reuse and database_exists(base_url, args.database))
    if fresh:
        create_database(base_url, args.database)
    django_setup(url)
    from django.core.management import call_command
    from django.db import connection

    from experiments.models import Experiment, Exposure

    call_command("migrate", verbosity=0)
    experiment = Experiment.objects.filter(key=KEY).first()
    if (
        experiment is not None
        and Exposure.objects.filter(experiment=experiment).count() != args.exposures
    ):
        sys.exit(f"{args.database} holds another size; run without --reuse to regenerate it.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"PostgreSQL {server}; database {args.database}; now {NOW:%Y-%m-%d}")
    print(f"python bench/dashboard.py --exposures {args.exposures} --repeat {args.repeat}")
    if experiment is None:
        seconds = generate(args.exposures)
        experiment = Experiment.objects.get(key=KEY)
        print(f"generated in {seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE surface = 'first_login') FROM consent_consentrecord"
        )
        records, decisions = cursor.fetchone()
    print(
        f"{args.exposures:,} exposures, {decisions:,} decisions, {records - decisions:,} reversal records"
    )

    # Warm both once (caches, plans), then alternate so neither gets a warmer database.
    results, raw = dashboard(experiment), raw_counts(experiment)
    same_numbers(results, raw)
    orm_times, raw_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        dashboard(experiment)
        orm_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        raw_counts(experiment)
        raw_times.append(time.perf_counter() - started)

    orm, sql = min(orm_times), min(raw_times)
    print("\nper arm (dashboard):")
    for arm in results.arms:
        d = arm.decisions
        print(
            f"  {arm.variant.key:<18} exposed {arm.exposed:>8,} decided {d.decided:>8,} "
            f"opt-in {arm.opt_in_rate:6.1%} reversals {d.reversals:>6,}/{d.opt_ins_matured:<8,} "
            f"median {d.median_seconds:5.1f} s"
        )
    print(
        f"\n(a) dashboard computation  best {orm:6.2f} s  (median {statistics.median(orm_times):.2f} s)"
    )
    print(
        f"(b) raw SQL GROUP BY        best {sql:6.2f} s  (median {statistics.median(raw_times):.2f} s)"
    )
    print(f"\ndashboard / raw SQL = {orm / sql:.2f}  (target <= 2)")


if __name__ == "__main__":
    main()
