"""Web pages: thin views over the edc services."""
