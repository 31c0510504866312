"""The Textual UI. Everything that imports textual lives under this package."""
