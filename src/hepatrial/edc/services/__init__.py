"""The services: the only functions that write clinical data.

Each one checks permission and site, validates against the active protocol, writes its audit
records and commits once. Views, the API and the CLI call these and nothing below them.
"""
