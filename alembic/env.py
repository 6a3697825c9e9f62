"""Alembic environment: the only way the schema changes (never ``create_all``)."""

from __future__ import annotations

import os
from logging.config import fileConfig

from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from alembic import context
from geo import settings
from geo.db import Base

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# Import every model module so that autogenerate sees the whole metadata.
import coverage.models  # noqa: E402,F401
import directory.models  # noqa: E402,F401
import geo.models  # noqa: E402,F401
import web.accounts  # noqa: E402,F401
import web.audit  # noqa: E402,F401

target_metadata = Base.metadata


def _url() -> str:
    url = os.environ.get("MAILLAGE_MIGRATE_URL") or settings.database_url()
    return settings.normalise_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      include_object=alembic_helpers.include_object,
                      render_item=alembic_helpers.render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=alembic_helpers.include_object,
                          process_revision_directives=alembic_helpers.writer,
                          render_item=alembic_helpers.render_item)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
