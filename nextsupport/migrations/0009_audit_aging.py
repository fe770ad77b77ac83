"""The audit trail ages (P26, docs/retention.md): its oldest events may be purged, with a signed checkpoint.

The append-only trigger now lets a DELETE through only where the
transaction-local setting nextsupport.allow_audit_delete is on, which only
nextsupport.audit.purge_expired sets; an UPDATE is still always refused.
Checkpoints are append-only in the database too.
"""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('nextsupport.allow_audit_delete', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: % on audit events is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION audit_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Audit checkpoints are append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_checkpoint_append_only
BEFORE UPDATE OR DELETE ON nextsupport_auditcheckpoint
FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON nextsupport_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_checkpoint_append_only();
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % on audit events is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('nextsupport', '0008_blind_index_rotations'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.BigIntegerField(help_text='The last event removed.', unique=True)),
                ('hash', models.CharField(help_text="That event's hash: the next event's previous-hash.", max_length=64)),
                ('removed', models.BigIntegerField(help_text='Events removed by the purge that wrote this checkpoint.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('signature', models.CharField(max_length=64)),
            ],
            options={
                'ordering': ['-sequence'],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
