"""Modal screens: export dialog, overwrite confirmation, help, errors."""
