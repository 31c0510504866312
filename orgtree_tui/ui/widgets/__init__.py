"""Widgets of the main screen: the org tree, the details pane, the status bar."""
