"""One side of the contact-import benchmark, run in its own process so its peak memory is its own.

    python -m bench.import_worker ours <media root> <job id>
    python -m bench.import_worker floor <csv> <organisation id>
    python -m bench.import_worker import-export <csv> <organisation id> <rows>

Prints one JSON line: seconds, rows handled, peak RSS (MB) and the RSS after
Django started (so the import's own share can be read off).
"""

import csv
import json
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextsupport.settings.test")


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for a child process that must use this process's (test) database.

    The server, user and options are the ones this process was started with
    (a TCP address, or the socket directory of the embedded PostgreSQL); only
    the database name differs, since the test runner made its own.
    """
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + quote(settings_dict["NAME"])))


def _rss_mb() -> float:
    """Peak resident memory of this process so far.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child
    would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(media_root: str, job_id: str) -> dict:
    from django.test.utils import override_settings

    from consumers import services
    from consumers.models import ImportJob
    from nextsupport.storage import storages_setting

    # The parent stored the upload under its own scratch folder.
    storages = storages_setting(
        bucket="",
        recordings_bucket="",
        endpoint_url=None,
        region="eu-west-2",
        kms_key_id="",
        media_root=Path(media_root),
        recordings_root=Path(media_root),
        url_expiry=300,
    )
    with override_settings(STORAGES=storages):
        started = time.perf_counter()
        while services.import_job_run(job_id=int(job_id)) == "continue":
            pass
        seconds = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.COMPLETED:
        raise RuntimeError(f"The import did not complete: {job.failure_reason}")
    figures = {k: getattr(job, k) for k in ("rows_read", "created", "updated", "rejected", "minors", "suppressed", "duplicates")}
    return {"seconds": seconds, "rows": job.rows_read, "figures": figures}


def floor(path: str, organisation_id: str) -> dict:
    """Only what any import must do: parse each number, encrypt the fields, COPY the rows."""
    import phonenumbers
    from django.db import connection, transaction
    from django.utils import timezone

    from consumers.models import Consumer
    from nextsupport import crypto

    fields = {name: Consumer._meta.get_field(name) for name in ("name", "phone", "email", "date_of_birth", "postcode")}
    table = "bench_floor_consumer"
    started = time.perf_counter()
    rows = 0
    seen = set()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} (LIKE {Consumer._meta.db_table} INCLUDING ALL)")
        columns = "organisation_id, name, phone, phone_index, email, email_index, date_of_birth, postcode, created_at, updated_at"
        with (
            open(path, newline="", encoding="utf-8-sig") as stream,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int8", "bytea", "bytea", "bytea", "bytea", "bytea", "bytea", "bytea", "timestamptz", "timestamptz"])
            reader = csv.reader(stream)
            next(reader)
            for name, phone, email, born, postcode, *_ in reader:
                rows += 1
                try:
                    number = phonenumbers.parse(phone, "GB")
                except phonenumbers.NumberParseException:
                    continue
                if not phonenumbers.is_valid_number(number):
                    continue
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                index = crypto.blind_index("phone", e164)
                if index in seen:
                    continue
                seen.add(index)
                copy.write_row(
                    (
                        int(organisation_id),
                        fields["name"].encrypt(name or None),
                        fields["phone"].encrypt(e164),
                        index,
                        fields["email"].encrypt(email) if email else None,
                        crypto.blind_index("email", email.lower()) if email else None,
                        fields["date_of_birth"].encrypt(_iso(born)) if born else None,
                        fields["postcode"].encrypt(postcode or None),
                        now,
                        now,
                    )
                )
        seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {table}")
    return {"seconds": seconds, "rows": rows}


def _iso(day_first: str) -> str:
    day, month, year = day_first.split("/")
    return f"{year}-{month}-{day}"


def import_export(path: str, organisation_id: str, limit: str) -> dict:
    """The same rows into the same model the way a typical Django team would: django-import-export."""
    import tablib
    from django.core.exceptions import ValidationError
    from import_export import fields, resources, widgets

    from consumers.models import Consumer
    from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone

    class ConsumerResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="Name")
        phone = fields.Field(attribute="phone", column_name="Phone")
        email = fields.Field(attribute="email", column_name="Email")
        date_of_birth = fields.Field(
            attribute="date_of_birth", column_name="Date of birth", widget=widgets.DateWidget("%d/%m/%Y")
        )
        postcode = fields.Field(attribute="postcode", column_name="Postcode")

        class Meta:
            model = Consumer
            fields = ("name", "phone", "email", "date_of_birth", "postcode")
            import_id_fields = ("phone",)

        def before_import_row(self, row, **kwargs):
            try:
                row["Phone"] = normalise_phone(row["Phone"])
            except InvalidPhoneNumber as exc:
                raise ValidationError({"phone": exc.messages}) from exc
            for column in ("Email", "Date of birth", "Postcode"):
                row[column] = row[column] or None

        def get_instance(self, instance_loader, row):
            # Encrypted columns cannot be filtered: look the number up through its blind index.
            return Consumer.objects.filter(organisation_id=organisation_id, phone_index__matches=row["Phone"]).first()

        def before_save_instance(self, instance, row, **kwargs):
            instance.organisation_id = int(organisation_id)

    with open(path, newline="", encoding="utf-8-sig") as stream:
        lines = [line for _, line in zip(range(int(limit) + 1), stream, strict=False)]
    dataset = tablib.Dataset().load("".join(lines), format="csv")
    started = time.perf_counter()
    result = ConsumerResource().import_data(dataset, dry_run=False, raise_errors=False, use_transactions=True)
    seconds = time.perf_counter() - started
    if result.has_errors():
        raise RuntimeError(f"django-import-export failed: {[e.error for row in result.row_errors() for e in row[1]][:3]}")
    return {"seconds": seconds, "rows": len(dataset), "invalid_rows": len(result.invalid_rows)}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    baseline = _rss_mb()
    mode, *args = argv
    result = {"ours": ours, "floor": floor, "import-export": import_export}[mode](*args)
    result.update(peak_rss_mb=round(_rss_mb(), 1), baseline_rss_mb=round(baseline, 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
