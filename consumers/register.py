"""Loading a TPS or CTPS register file into the screening table (P49).

The files hold millions of numbers, one per line. They are streamed, each
number turned into its blind index (the same index a consumer's number has),
COPY-ed into a temporary table and inserted once, de-duplicated, in a single
transaction: until it commits, screening keeps using the previous file, and a
failure leaves the previous file in place with nothing half-loaded.
"""

import io

from django.db import connection, transaction

from nextsupport import crypto
from nextsupport.identifiers import register_number_e164

from .models import RegisteredNumber, ScreeningRegister

_STAGE = "screening_register_stage"


@transaction.atomic
def load(*, kind: str, file_date, stream, imported_by: str) -> ScreeningRegister:
    register = ScreeningRegister.objects.create(kind=kind, file_date=file_date, imported_by=imported_by[:100])
    unreadable = 0
    table = RegisteredNumber._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (phone_index bytea) ON COMMIT DROP")
        with cursor.copy(f"COPY {_STAGE} (phone_index) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["bytea"])
            for line in io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None):
                if not line.strip():
                    continue
                e164 = register_number_e164(line)
                if e164 is None:
                    unreadable += 1  # a header line, a comment, or a damaged entry
                    continue
                # The value is already normalised: index it directly, as every table does.
                copy.write_row((crypto.blind_index("phone", e164),))
        cursor.execute(
            f"INSERT INTO {table} (register_id, phone_index) SELECT DISTINCT %s, phone_index FROM {_STAGE}",  # noqa: S608
            [register.pk],
        )
        numbers = cursor.rowcount
        superseded = list(
            ScreeningRegister.objects.filter(kind=kind, status=ScreeningRegister.Status.CURRENT).values_list("pk", flat=True)
        )
        cursor.execute(f"DELETE FROM {table} WHERE register_id = ANY(%s)", [superseded])  # noqa: S608
        cursor.execute(f"DROP TABLE {_STAGE}")
    ScreeningRegister.objects.filter(pk__in=superseded).update(status=ScreeningRegister.Status.SUPERSEDED)
    register.status, register.numbers, register.unreadable_lines = ScreeningRegister.Status.CURRENT, numbers, unreadable
    register.save(update_fields=["status", "numbers", "unreadable_lines"])
    return register
