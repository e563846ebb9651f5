"""Make audit rows append-only in the database itself.

On PostgreSQL a row trigger refuses UPDATE and DELETE on edc_auditevent for every role, the
application's own included. TRUNCATE is left to the table owner (test databases are emptied
that way); production deployments revoke it from the application role (docs/deployment.md).
On SQLite the hash chain is the protection: `hepatrial audit verify` finds any changed row.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION hepatrial_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on edc_auditevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER edc_auditevent_append_only
    BEFORE UPDATE OR DELETE ON edc_auditevent
    FOR EACH ROW EXECUTE FUNCTION hepatrial_audit_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS edc_auditevent_append_only ON edc_auditevent;
DROP FUNCTION IF EXISTS hepatrial_audit_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID, params=None)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


class Migration(migrations.Migration):
    dependencies = [("edc", "0002_capture")]
    operations = [migrations.RunPython(forbid, allow)]
