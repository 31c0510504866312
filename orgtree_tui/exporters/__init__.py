"""One small renderer per export format; `orgtree_tui.export` is the public facade.

Every renderer takes a `Snapshot` rather than the live tree, so a format never sees the
crawl change the tree halfway through a file.
"""
