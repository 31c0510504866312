"""The last crawled tree on disk: `store` (keys, paths, freshness) and `format` (the file)."""
