"""The migrations form one chain: one head, every revision reachable from it, no loops."""
from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

import sitedir

MIGRATIONS = Path(sitedir.__file__).parent / "migrations"


def test_one_head_and_every_revision_on_the_way_down_from_it() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    assert len(heads) == 1, f"more than one head: {heads}"
    reachable = {revision.revision for revision in script.walk_revisions("base", heads[0])}
    every = {path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*.py")}
    assert every == reachable, every ^ reachable
