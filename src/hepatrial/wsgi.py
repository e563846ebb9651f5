"""WSGI entry point: `hepatrial serve` (waitress) and `hepatrial serve --workers N` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hepatrial.settings")
application = get_wsgi_application()
