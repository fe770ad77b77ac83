"""Encrypted personal-data field against plain columns: write, read and lookup throughput.

Same rows, same table shape, measured side by side in one run: the encrypted
model (AES-GCM per field plus HMAC blind indexes) and a plain model with an
ordinary indexed phone column. Lookups go through the blind index on one side
and the plain index on the other.
"""

import random

from django.db import connection, transaction

from bench.util import table, timed
from nextsupport.identifiers import InvalidPhoneNumber, normalise_phone
from tests.testapp.models import Person, PlainPerson

ROWS = 5000
LOOKUPS = 500
ROUNDS = 5


def _mobile(rng) -> str:
    while True:
        candidate = f"+447{rng.randrange(400000000, 999999999)}"
        try:
            return normalise_phone(candidate)
        except InvalidPhoneNumber:
            continue


def _rows():
    rng = random.Random(7)
    return [
        {
            "name": f"Person {i}",
            "phone": _mobile(rng),
            "email": f"person{i}@example.org",
            "born_on": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
            "notes": "Prefers calls after 5pm.",
        }
        for i in range(ROWS)
    ]


def _truncate(model):
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {model._meta.db_table}")


def _write(model, rows):
    def go():
        _truncate(model)
        with transaction.atomic():
            model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)

    return go


def _read(model):
    return lambda: sum(1 for _ in model.objects.all().iterator(chunk_size=2000))


def _lookup(model, phones):
    if model is Person:
        return lambda: [Person.objects.filter(phone_index__matches=p).first() for p in phones]
    return lambda: [PlainPerson.objects.filter(phone=p).first() for p in phones]


def run() -> dict:
    rows = _rows()
    phones = [r["phone"] for r in random.Random(3).sample(rows, LOOKUPS)]
    figures, printed = {}, []
    for label, model in (("encrypted", Person), ("plain", PlainPerson)):
        write = timed(_write(model, rows), ROUNDS)
        read = timed(_read(model), ROUNDS)
        lookup = timed(_lookup(model, phones), ROUNDS)
        figures[label] = {
            "write_rows_per_s": round(ROWS / write),
            "read_rows_per_s": round(ROWS / read),
            "lookups_per_s": round(LOOKUPS / lookup),
        }
    for metric in ("write_rows_per_s", "read_rows_per_s", "lookups_per_s"):
        ratio = figures["encrypted"][metric] / figures["plain"][metric]
        figures.setdefault("encrypted_to_plain_ratio", {})[metric] = round(ratio, 2)
        printed.append((metric, figures["encrypted"][metric], figures["plain"][metric], f"{ratio:.2f}"))
    print(table(printed, (f"median over {ROUNDS} rounds", "encrypted", "plain", "ratio")))
    figures["rows"], figures["lookups"], figures["rounds"] = ROWS, LOOKUPS, ROUNDS
    return figures
