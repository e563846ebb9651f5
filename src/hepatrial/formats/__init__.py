"""Dates and numbers, one way per language (``FORMAT_MODULE_PATH``; see docs/web.md).

English pages write dates as ISO 8601 (2024-03-01), Chinese pages as 2024年3月1日: neither can
be read as the first of March in one country and the third of January in another. Short forms
and every input are ISO in both languages, so a date typed on any page means the same day.
"""
