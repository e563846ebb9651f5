"""Pick the English or Chinese text of a protocol label for the current request."""

from django.utils.translation import get_language

from hepatrial.protocol.model import Label


def localized(label: Label) -> str:
    return label.zh if (get_language() or "en").startswith("zh") else label.en
