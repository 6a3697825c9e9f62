"""Search: the vocabulary of the index (distinct words of every structure's search text).

Search runs in two phases (see ``directory/search.py``): each query word is first looked
up in this small table (exact, or similar by trigrams for a typo), then the words found
go to the full-text index of ``structures``. Matching a typo on ~100,000 long texts
made common words slow; on tens of thousands of single words it takes a millisecond.

A trigger adds the words of every open structure inserted, re-indexed or reopened (never
a lock on an existing word: ``ON CONFLICT DO NOTHING``), so every writer keeps the table
complete; words no open structure uses any more are pruned at the end of an import
(``directory.store.prune_search_words``). The words are in the "C" collation, so that
the primary key also serves prefix searches.

``ix_structures_commune_prefix`` serves « the user's département first »
(``commune_code LIKE '43%'``), which the default-collation index cannot. The trigram
index on ``structures.search_text`` is dropped: nothing searches the texts by trigrams
any more (typos are matched on the vocabulary), and every import paid for its upkeep.

Revision ID: 0010_search_words
Revises: 0009_plan_versions
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010_search_words"
down_revision = "0009_plan_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("search_words", sa.Column("word", sa.Text(collation="C"), primary_key=True))
    op.create_index("ix_search_words_trgm", "search_words", [sa.text("word gin_trgm_ops")],
                    postgresql_using="gin")
    op.execute("""
        CREATE FUNCTION search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status <> 'open' THEN
                RETURN NULL;
            END IF;
            INSERT INTO search_words (word)
            SELECT DISTINCT w FROM regexp_split_to_table(NEW.search_text, ' ') AS w
            WHERE w <> '' ORDER BY w
            ON CONFLICT (word) DO NOTHING;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER structures_search_words AFTER INSERT OR UPDATE OF search_text, status
        ON structures FOR EACH ROW EXECUTE FUNCTION search_words_add()""")
    op.execute("""
        INSERT INTO search_words (word)
        SELECT DISTINCT w FROM structures, regexp_split_to_table(search_text, ' ') AS w
        WHERE status = 'open' AND w <> '' ON CONFLICT DO NOTHING""")
    op.execute("CREATE INDEX ix_structures_commune_prefix ON structures "
               "(commune_code varchar_pattern_ops)")
    op.drop_index("ix_structures_search_trgm", table_name="structures")


def downgrade() -> None:
    op.create_index("ix_structures_search_trgm", "structures",
                    [sa.text("search_text gin_trgm_ops")], postgresql_using="gin")
    op.execute("DROP INDEX ix_structures_commune_prefix")
    op.execute("DROP TRIGGER structures_search_words ON structures")
    op.execute("DROP FUNCTION search_words_add()")
    op.drop_table("search_words")
