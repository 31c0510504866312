"""Every path the app reads or writes on disk, in one place.

The cache holds the whole org chart (account names and emails), so directories this
module creates are mode 0700. Environment variables override the platform defaults, which
is also how the tests keep away from the real home directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "orgtree-tui"
CACHE_DIR_ENV = "ORGTREE_TUI_CACHE_DIR"
SETTINGS_FILE_ENV = "ORGTREE_TUI_CONFIG"
SETTINGS_FILE_NAME = "settings.toml"


def cache_dir(*, create: bool = True) -> Path:
    """Where cached org trees live: `$ORGTREE_TUI_CACHE_DIR`, else the user cache dir."""
    path = _from_env(CACHE_DIR_ENV) or Path(platformdirs.user_cache_dir(APP_NAME))
    return _ensure(path) if create else path


def config_dir(*, create: bool = True) -> Path:
    """The directory of the settings file (see `settings_file`)."""
    override = _from_env(SETTINGS_FILE_ENV)
    path = override.parent if override else Path(platformdirs.user_config_dir(APP_NAME))
    return _ensure(path) if create else path


def settings_file() -> Path:
    """`$ORGTREE_TUI_CONFIG`, else settings.toml in the user config dir. Never created here:
    a missing file there means default settings, so reading must not leave directories
    behind."""
    return settings_file_override() or config_dir(create=False) / SETTINGS_FILE_NAME


def settings_file_override() -> Path | None:
    """The settings file `$ORGTREE_TUI_CONFIG` names, if it names one."""
    return _from_env(SETTINGS_FILE_ENV)


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    # An empty variable is how people switch an override off without unsetting it.
    return Path(value).expanduser().absolute() if value else None


def _ensure(path: Path) -> Path:
    # An existing directory keeps its mode: it may be shared on purpose (say, /tmp), and the
    # files we write in it are 0600 anyway.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
