from django.apps import AppConfig


class EdcConfig(AppConfig):
    name = "hepatrial.edc"
    label = "edc"
    verbose_name = "Data capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hepatrial.edc import signals  # noqa: F401  (connects the audit receivers)
