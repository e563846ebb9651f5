from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "hepatrial.web"
    label = "web"
    verbose_name = "Web pages"
