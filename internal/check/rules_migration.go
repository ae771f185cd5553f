package check

import "github.com/breakwater-ci/breakwater/internal/finding"

const releasedIncident = "A release passed every test but failed in production: no test applied the old schema and data first and then upgraded. Production runs only the migrations it has not run yet, in version order; a migration edited, removed or slipped in below the newest one after release is never applied as written there."

// The migration history rules: static checks of the migration files,
// needing no database. Their pages are docs/rules/<ID>.md.
var (
	HistoryRewritten = &finding.Rule{
		ID:       "migration/history-rewritten",
		Title:    "A released migration is changed",
		Severity: finding.Error,
		Summary:  "A migration that exists on the base side is modified, deleted or renumbered at head. Databases that already ran it will never run it again, so they and fresh databases end up with different schemas.",
		Incident: releasedIncident,
	}
	OutOfOrder = &finding.Rule{
		ID:       "migration/out-of-order",
		Title:    "A new migration sorts before a released one",
		Severity: finding.Error,
		Summary:  "A new migration's version sorts before the newest migration on the base side. Tools that apply only versions above the newest applied one skip it, and the others refuse to run or apply it in another order than fresh databases do.",
		Incident: releasedIncident,
	}
)

func init() { finding.Register(HistoryRewritten, OutOfOrder) }

// The database rules: what a real Postgres says when the migrations run.
var (
	UpgradePathFailed = &finding.Rule{
		ID:       "migration/upgrade-path-failed",
		Title:    "The upgrade from the base schema and data fails",
		Severity: finding.Error,
		Summary:  "On a fresh database, the base side's migrations and the seed data applied, and then one of the head side's new migrations failed: what production will run on deploy fails.",
		Incident: releasedIncident,
	}
	HeadOnlyFailed = &finding.Rule{
		ID:       "migration/head-only-failed",
		Title:    "The head migrations fail on an empty database",
		Severity: finding.Error,
		Summary:  "Every head migration applied in order on an empty database fails: new environments, CI databases and disaster recovery from scratch cannot be built.",
		Incident: releasedIncident,
	}
)

func init() { finding.Register(UpgradePathFailed, HeadOnlyFailed) }

const collationIncident = "A Postgres container's base image moved from Debian to Alpine: glibc collation became musl byte order and B-tree indexes on text went silently corrupt; queries missed rows and unique indexes let in duplicates. amcheck proves such corruption when it exists."

// What the database the migrations leave behind says.
var (
	IndexCorruption = &finding.Rule{
		ID:       "postgres/index-corruption",
		Title:    "amcheck finds a corrupt index or table",
		Severity: finding.Error,
		Summary:  "After the upgrade path, bt_index_check (with heapallindexed) on every B-tree index of the user schemas, or verify_heapam on a table (Postgres 14+), reports corruption.",
		Incident: collationIncident,
	}
	DependentIndexes = &finding.Rule{
		ID:       "collation/dependent-indexes",
		Title:    "Indexes that depend on a collation",
		Severity: finding.Notice,
		Summary:  "The indexes whose keys or expressions sort by a libc or ICU collation other than C/POSIX, with a REINDEX script: they go corrupt when the collation library under the data changes. An error when the same change swaps the C library or its collation version under a database image.",
		Incident: collationIncident,
	}
	VersionMismatch = &finding.Rule{
		ID:       "collation/version-mismatch",
		Title:    "A collation's recorded version differs from the library's",
		Severity: finding.Warning,
		Summary:  "pg_collation_actual_version() differs from the version Postgres recorded for a collation, or (Postgres 15+) the database's datcollversion differs from its default collation's: the indexes built under the old version may be out of order.",
		Incident: collationIncident,
	}
)

func init() { finding.Register(IndexCorruption, DependentIndexes, VersionMismatch) }

const rollbackIncident = "A Postgres major upgrade went half done and a downgrade was attempted: there was no way back. A release owner asks first whether a migration can be rolled back if the deploy goes wrong; a down step that was never run is no answer."

// The rollback round trip: the new migrations up, down in reverse, up
// again, on the upgrade-path database.
var (
	RollbackFailed = &finding.Rule{
		ID:       "migration/rollback-failed",
		Title:    "A down migration fails",
		Severity: finding.Error,
		Summary:  "After the upgrade path, the new head migrations are rolled back newest first with their down steps, and one of them fails on the real server: the rollback a bad deploy needs does not work.",
		Incident: rollbackIncident,
	}
	RollbackMismatch = &finding.Rule{
		ID:       "migration/rollback-mismatch",
		Title:    "A down migration does not restore the schema",
		Severity: finding.Error,
		Summary:  "After a new migration's down step, the schema is not what it was before its up step: the down forgot to drop something its up created, or drops or changes more. The differences are listed.",
		Incident: rollbackIncident,
	}
	ReapplyFailed = &finding.Rule{
		ID:       "migration/reapply-failed",
		Title:    "A migration fails when applied again after its down",
		Severity: finding.Error,
		Summary:  "After the new migrations were rolled back, applying them up again fails: usually the down forgot to drop something the up creates, so the second up collides with it.",
		Incident: rollbackIncident,
	}
	NoDown = &finding.Rule{
		ID:       "migration/no-down",
		Title:    "A new migration has no down step",
		Severity: finding.Notice,
		Summary:  "A new migration in a format with down steps (golang-migrate, goose, dbmate, Flyway undo) has none, or an empty one, or a command directory has no down_command: it cannot be rolled back, and the rollback round trip stops above it.",
		Incident: rollbackIncident,
	}
)

func init() { finding.Register(RollbackFailed, RollbackMismatch, ReapplyFailed, NoDown) }

const lockIncident = "A release passed every test but failed in production, because no test applied the old schema and data first and then upgraded. Locks fail the same way: on CI's empty tables a statement that locks a table is over in a millisecond; on production's rows it holds the lock while it reads or rewrites every row, and every request that touches the table waits behind it."

// Lock tracing: what each new head statement really locks and rewrites,
// read from pg_locks and pg_class on the upgrade-path database.
var (
	BlockingLock = &finding.Rule{
		ID:       "migration/blocking-lock",
		Title:    "A migration blocks a table while it reads or rewrites it",
		Severity: finding.Warning,
		Summary:  "A new head statement holds a lock that blocks writes (ShareLock, ShareRowExclusiveLock, ExclusiveLock) or reads and writes (AccessExclusiveLock) on a table that existed before, while it scans or rewrites the whole table: the block lasts as long as the table is big.",
		Incident: lockIncident,
	}
	TableRewrite = &finding.Rule{
		ID:       "migration/table-rewrite",
		Title:    "A migration rewrites an existing table or index",
		Severity: finding.Warning,
		Summary:  "A new head statement gives a table or index that existed before a new file (its relfilenode changes): Postgres writes the whole relation again, under an AccessExclusiveLock for a table, needing its size again in free disk.",
		Incident: lockIncident,
	}
	MissingLockTimeout = &finding.Rule{
		ID:       "migration/missing-lock-timeout",
		Title:    "A blocking migration statement runs without lock_timeout",
		Severity: finding.Notice,
		Summary:  "A new head statement takes a lock that blocks reads or writes on an existing table, and the migration has not set lock_timeout: while it waits for a long-running query to finish, every other query on the table waits behind it.",
		Incident: lockIncident,
	}
)

func init() { finding.Register(BlockingLock, TableRewrite, MissingLockTimeout) }

// BackwardIncompatible is what the old application, still serving during
// the rollout, breaks on.
var BackwardIncompatible = &finding.Rule{
	ID:       "migration/backward-incompatible",
	Title:    "The new schema breaks the application version still running",
	Severity: finding.Error,
	Summary:  "Comparing the schema after the base migrations and seed with the schema after the head migrations: a table or column the old code uses is dropped or renamed, a column changes type, a column becomes NOT NULL without a default (or a new NOT NULL column has none), an enum loses a value, or a view or function is dropped or changes signature.",
	Incident: "A config file was restructured and old configs stopped loading, although a backward-compatible form existed. Schemas are the same: during a rolling deploy, and after a rollback of the code, the old version of the application runs against the new schema.",
}

func init() { finding.Register(BackwardIncompatible) }
