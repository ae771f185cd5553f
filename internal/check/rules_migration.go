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
