from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("edc", "0006_deviation_params"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="language",
            field=models.CharField(blank=True, max_length=16),
        ),
    ]
