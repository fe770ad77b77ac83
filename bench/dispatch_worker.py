"""One dispatcher worker in its own process: the two-worker test and the dispatcher benchmark run two of these.

    python -m bench.dispatch_worker [--no-dial] [--batch N]

It runs dispatcher ticks until no contact is due, then prints one JSON line:
contacts claimed, calls created, ticks and seconds. With --no-dial the calls
are created but not handed to the provider (the benchmark measures the
dispatcher itself); without it each call is dialled through the configured
provider as in production (the tests use the simulator).
"""

import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextsupport.settings.test")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.utils import timezone

    from campaigns import dispatcher, tasks
    from campaigns.models import CampaignContact

    batch = int(argv[argv.index("--batch") + 1]) if "--batch" in argv else None
    patch = mock.patch.object(tasks.place_call, "delay_on_commit") if "--no-dial" in argv else mock.MagicMock()
    claimed = created = ticks = 0
    started = time.perf_counter()
    with patch:
        while CampaignContact.objects.filter(state=CampaignContact.State.WAITING, next_attempt_at__lte=timezone.now()).exists():
            report = dispatcher.dispatch_due(limit=batch)
            claimed, created, ticks = claimed + report.claimed, created + report.dialled, ticks + 1
    print(json.dumps({"claimed": claimed, "created": created, "ticks": ticks, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
