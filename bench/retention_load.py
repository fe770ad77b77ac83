"""Another client's everyday work while the retention purge runs: the retention benchmark runs one of these.

    python -m bench.retention_load --organisation ID --list ID --campaign ID --stop-file PATH

Until the stop file appears, it repeats one operation: add a consumer to the
list (an insert into the tables the purge deletes from), then read that list's
newest consumers and its campaign's calls. It prints one JSON line with the
latency of each operation in milliseconds.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextsupport.settings.test")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db import transaction

    from campaigns.models import Call
    from consumers.models import Consumer, ListMembership

    def arg(name):
        return argv[argv.index(name) + 1]

    organisation_id, list_id, campaign_id = int(arg("--organisation")), int(arg("--list")), int(arg("--campaign"))
    stop = Path(arg("--stop-file"))
    latencies, n = [], 0
    while not stop.exists():
        n += 1
        started = time.perf_counter()
        with transaction.atomic():
            consumer = Consumer.objects.create(organisation_id=organisation_id, phone=f"+4478{os.getpid() % 100:02d}{n:06d}")
            ListMembership.objects.create(contact_list_id=list_id, consumer=consumer)
        list(Consumer.objects.filter(memberships__contact_list_id=list_id).order_by("-id").values_list("pk", flat=True)[:20])
        Call.objects.filter(campaign_id=campaign_id).count()
        latencies.append(1000 * (time.perf_counter() - started))
        time.sleep(0.01)  # a steady stream of requests, not a tight loop that starves the purge
    print(json.dumps({"latencies_ms": latencies}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
