"""Close two gaps in the consent ledger's database guard (P14, P18).

DELETE: refused, unless the transaction-local setting
nextsupport.allow_ledger_delete is 'on'. Only consumers.services.
ledger_delete_allowed() sets it, for the two paths that must remove evidence:
a person found to be under 16 (P48) and the retention purge after six years.

UPDATE of source_reference: allowed only as a key rotation does it. SQL cannot
decrypt, so it cannot check that the plaintext is unchanged; what it can check
is the ciphertext's frame (see nextsupport/crypto.py: version byte, key-id
length, key id, 12-byte nonce, ciphertext, 16-byte tag): the new value must
be in that format, under a different key id than the old one, and hold a
plaintext of the same length. Replacing a reference with another one under
the same key (what application code, or a stray UPDATE, would do) is refused.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ns_encrypted_key_id(value bytea) RETURNS bytea AS $$
    SELECT substring(value FROM 3 FOR get_byte(value, 1));
$$ LANGUAGE sql IMMUTABLE STRICT;

CREATE FUNCTION ns_encrypted_plaintext_length(value bytea) RETURNS integer AS $$
    -- version and key-id length bytes, the key id, the nonce and the tag around the ciphertext
    SELECT octet_length(value) - 2 - get_byte(value, 1) - 12 - 16;
$$ LANGUAGE sql IMMUTABLE STRICT;

CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('nextsupport.allow_ledger_delete', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'The consent ledger is append-only: consent evidence is not deleted';
    END IF;
    IF (NEW.id, NEW.organisation_id, NEW.consumer_id, NEW.phone_index, NEW.purpose, NEW.action, NEW.method,
        NEW.occurred_at, NEW.wording, NEW.wording_version, NEW.import_job_id, NEW.recorded_by_id, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.id, OLD.organisation_id, OLD.consumer_id, OLD.phone_index, OLD.purpose, OLD.action, OLD.method,
        OLD.occurred_at, OLD.wording, OLD.wording_version, OLD.import_job_id, OLD.recorded_by_id, OLD.recorded_at)
       OR (NEW.source_reference IS NULL) <> (OLD.source_reference IS NULL) THEN
        RAISE EXCEPTION 'The consent ledger is append-only: record a withdrawal instead of changing an entry';
    END IF;
    IF NEW.source_reference IS DISTINCT FROM OLD.source_reference AND NOT (
        octet_length(NEW.source_reference) >= 2 + 1 + 12 + 16
        AND get_byte(NEW.source_reference, 0) = 1
        AND ns_encrypted_key_id(NEW.source_reference) <> ns_encrypted_key_id(OLD.source_reference)
        AND ns_encrypted_plaintext_length(NEW.source_reference) = ns_encrypted_plaintext_length(OLD.source_reference)
    ) THEN
        RAISE EXCEPTION 'The consent ledger is append-only: a source reference may only be re-encrypted onto another key';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER consent_record_append_only ON consumers_consentrecord;
CREATE TRIGGER consent_record_append_only
BEFORE UPDATE OR DELETE ON consumers_consentrecord
FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();
"""

# Back to 0002's guard: updates checked as before, deletes not at all.
BACKWARD = """
CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
BEGIN
    IF (NEW.id, NEW.organisation_id, NEW.consumer_id, NEW.phone_index, NEW.purpose, NEW.action, NEW.method,
        NEW.occurred_at, NEW.wording, NEW.wording_version, NEW.import_job_id, NEW.recorded_by_id, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.id, OLD.organisation_id, OLD.consumer_id, OLD.phone_index, OLD.purpose, OLD.action, OLD.method,
        OLD.occurred_at, OLD.wording, OLD.wording_version, OLD.import_job_id, OLD.recorded_by_id, OLD.recorded_at)
       OR (NEW.source_reference IS NULL) <> (OLD.source_reference IS NULL) THEN
        RAISE EXCEPTION 'The consent ledger is append-only: record a withdrawal instead of changing an entry';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER consent_record_append_only ON consumers_consentrecord;
CREATE TRIGGER consent_record_append_only
BEFORE UPDATE ON consumers_consentrecord
FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();

DROP FUNCTION ns_encrypted_plaintext_length(bytea);
DROP FUNCTION ns_encrypted_key_id(bytea);
"""


class Migration(migrations.Migration):
    dependencies = [("consumers", "0006_attestations_outlive_their_list")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
