"""The database lock's triggers also guard queries, source verification and signatures."""

from django.db import migrations

from hepatrial.edc import lock_triggers


class Migration(migrations.Migration):
    dependencies = [("edc", "0012_record_locks")]

    operations = [migrations.RunPython(lock_triggers.install, lock_triggers.uninstall)]
