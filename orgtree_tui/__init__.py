"""orgtree-tui: a terminal explorer for AWS Organizations."""

__version__ = "0.1.0"
