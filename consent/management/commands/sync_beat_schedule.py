from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask


class Command(BaseCommand):
    help = (
        "Copy settings.CELERY_BEAT_SCHEDULE into django-celery-beat's tables. New entries are "
        "created; existing ones keep whatever an admin changed (enabled, timing) unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Overwrite admin changes with the reviewed schedule.",
        )

    def handle(self, *args, reset: bool = False, **options):
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=_field(schedule._orig_minute),
                hour=_field(schedule._orig_hour),
                day_of_week=_field(schedule._orig_day_of_week),
                day_of_month=_field(schedule._orig_day_of_month),
                month_of_year=_field(schedule._orig_month_of_year),
                timezone=settings.CELERY_TIMEZONE,
            )
            task, created = PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": entry["task"], "crontab": crontab}
            )
            if not created and reset:
                task.task, task.crontab, task.enabled = entry["task"], crontab, True
                task.save(update_fields=["task", "crontab", "enabled"])
            self.stdout.write(f"{'created' if created else 'kept'}: {name} -> {entry['task']}")


def _field(value) -> str:
    return str(value)
