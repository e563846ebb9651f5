from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hepatrial.web"
    label = "web"
    verbose_name = "Web pages"

    def ready(self) -> None:
        from hepatrial.web import security  # noqa: F401  (starts the session clocks at sign-in)
