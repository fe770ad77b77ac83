"""The database itself refuses to change or remove audit events (P26).

The model and admin refuse too, but raw SQL and future code would not ask them.
TRUNCATE is left alone: the test runner empties tables between transactional
tests with it, and it needs the table owner's rights anyway.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % on audit events is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_append_only
BEFORE UPDATE OR DELETE ON nextsupport_auditevent
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_event_append_only ON nextsupport_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("nextsupport", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
