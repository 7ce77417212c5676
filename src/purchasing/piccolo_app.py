"""The Piccolo app that owns our tables and the top-level `migrations/` folder."""

from piccolo.conf.apps import AppConfig

from purchasing.settings import PROJECT_ROOT
from purchasing.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="purchasing",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=list(ALL_TABLES),
)
