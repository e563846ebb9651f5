"""The electronic data capture app: the only code that writes clinical data."""
