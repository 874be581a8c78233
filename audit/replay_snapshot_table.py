"""The replay snapshots' table (DDL only, for :mod:`audit.db`; see :mod:`audit.replay_snapshots`)."""

SNAPSHOTS = "audit_replay_snapshots"
TABLES = (SNAPSHOTS,)

SQLITE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {SNAPSHOTS} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "tree_size INTEGER NOT NULL, position INTEGER NOT NULL, root_hash TEXT NOT NULL, "
    "last_replayed INTEGER NOT NULL, events INTEGER NOT NULL, max_timestamp TEXT, "
    "previous_position INTEGER NOT NULL, segment_min_timestamp TEXT, "
    "state_digest TEXT NOT NULL, signature TEXT NOT NULL, public_key TEXT NOT NULL, "
    "created_at TEXT NOT NULL, state BLOB NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {SNAPSHOTS}_by_position ON {SNAPSHOTS} (position)",
)
POSTGRES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {{s}}.{SNAPSHOTS} (id BIGSERIAL PRIMARY KEY, "
    "tree_size BIGINT NOT NULL, position BIGINT NOT NULL, root_hash TEXT NOT NULL, "
    "last_replayed BIGINT NOT NULL, events BIGINT NOT NULL, max_timestamp TEXT, "
    "previous_position BIGINT NOT NULL, segment_min_timestamp TEXT, "
    "state_digest TEXT NOT NULL, signature TEXT NOT NULL, public_key TEXT NOT NULL, "
    "created_at TEXT NOT NULL, state BYTEA NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {SNAPSHOTS}_by_position ON {{s}}.{SNAPSHOTS} (position)",
)
