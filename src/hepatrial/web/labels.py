"""The text of a protocol label in the language of the current request."""

from collections.abc import Mapping

from django.utils.translation import get_language

from hepatrial.protocol.model import Label


def localized(label: Label | Mapping[str, str]) -> str:
    """``label`` in the active language, falling back as :meth:`Label.text` does (to English).

    A mapping (a label stored as JSON, e.g. in a deviation's parameters) reads the same way.
    """
    if not isinstance(label, Label):
        label = Label.model_validate(label)
    return label.text(get_language() or "en")
