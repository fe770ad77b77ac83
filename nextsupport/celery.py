"""The Celery app: workers place calls and run purges; tasks live in each app's tasks.py.

Tasks are thin: they take ids, re-fetch, return early when the work is already
done and call a service. Enqueue them with `task.delay_on_commit(...)` so a
worker never looks for a row whose transaction has not committed yet.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextsupport.settings.local")

# DjangoTask gives every task delay_on_commit()/apply_async_on_commit().
app = Celery("nextsupport", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
