package pg

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CollationIndex is an index whose order depends on a collation library
// (glibc or ICU), so an upgrade of that library, or a new base image,
// can silently corrupt it.
type CollationIndex struct {
	Schema, Table, Index string
	Unique               bool
	// Collations, sorted: "default (en_US.utf8, libc)" for the database
	// default, "name (provider)" for the others, e.g. "und-x-icu (icu)".
	Collations []string
	// Provider is "libc", "icu" or "mixed".
	Provider   string
	SizeBytes  int64
	Definition string // pg_get_indexdef
}

// VersionMismatch is a collation, or the current database's default
// collation, whose recorded library version differs from the one the
// server now loads: Postgres's own sign that indexes may need a rebuild.
type VersionMismatch struct {
	Object   string // `collation "x"` or `database "y"`
	Recorded string
	// Actual is "" when the library now reports no version at all.
	Actual string
	// Kind ("collation" or "database"), Schema (collations only) and Name
	// are for ReindexScript's REFRESH statements.
	Kind, Schema, Name string
}

// collInfo is what decides whether a collation makes an index fragile.
type collInfo struct {
	name, schema string
	provider     string // libc, icu, builtin
	locale       string
	// deterministic collations compare equal only equal bytes, so a
	// hash of the bytes does not depend on them.
	deterministic bool
}

// stable says whether the order cannot change with a library upgrade:
// C and POSIX compare bytes, and PG17's builtin provider is code point
// order, maintained by Postgres itself.
func (ci collInfo) stable() bool {
	switch ci.provider {
	case "builtin":
		return true
	case "libc":
		return ci.locale == "C" || ci.locale == "POSIX"
	}
	return false
}

func (ci collInfo) label() string {
	if ci.name == "default" {
		return fmt.Sprintf("default (%s, %s)", ci.locale, ci.provider)
	}
	name := ci.name
	if ci.schema != "pg_catalog" {
		name = ci.schema + "." + name
	}
	return fmt.Sprintf("%s (%s)", name, ci.provider)
}

func providerName(p string) string {
	switch p {
	case "c":
		return "libc"
	case "i":
		return "icu"
	case "b":
		return "builtin"
	}
	return p
}

func (c *Conn) serverMajor(ctx context.Context) (int, error) {
	var num int
	if err := c.pgx.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return 0, fmt.Errorf("pg: server version: %w", convertErr(err))
	}
	return num / 10000, nil
}

// CollationIndexes lists the indexes in user schemas that use a collation
// other than C/POSIX, as a key column's collation (pg_index.indcollation,
// where "default" is resolved to the database's locale and provider) or
// an explicit COLLATE inside an expression or predicate (pg_depend).
// Hash indexes count only with a nondeterministic collation. The
// database default used inside an expression or predicate without being
// a key collation is not seen: Postgres records no dependency on it, and
// it is mostly equality, which no collation change affects.
func (c *Conn) CollationIndexes(ctx context.Context) ([]CollationIndex, error) {
	colls, err := c.allCollations(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.pgx.Query(ctx, `
		SELECT n.nspname, t.relname, i.relname, x.indisunique, pg_relation_size(i.oid),
		       pg_get_indexdef(i.oid), am.amname = 'hash',
		       ARRAY(SELECT k FROM unnest(x.indcollation::oid[]) k WHERE k <> 0
		             UNION
		             SELECT d.refobjid FROM pg_depend d
		             WHERE d.classid = 'pg_class'::regclass AND d.objid = i.oid
		               AND d.refclassid = 'pg_collation'::regclass)
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = i.relnamespace
		JOIN pg_am am ON am.oid = i.relam
		WHERE i.relkind = 'i' AND i.relpersistence <> 't' AND `+userSchemaFilter+`
		ORDER BY 1, 2, 3`)
	if err != nil {
		return nil, fmt.Errorf("pg: list collation-dependent indexes: %w", convertErr(err))
	}
	var out []CollationIndex
	var oids []uint32
	for rows.Next() {
		var ix CollationIndex
		var hash bool
		if err := rows.Scan(&ix.Schema, &ix.Table, &ix.Index, &ix.Unique, &ix.SizeBytes, &ix.Definition, &hash, &oids); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pg: list collation-dependent indexes: %w", convertErr(err))
		}
		providers := map[string]bool{}
		labels := map[string]bool{}
		for _, o := range oids {
			ci, ok := colls[o]
			if !ok || ci.stable() || hash && ci.deterministic {
				continue
			}
			providers[ci.provider] = true
			labels[ci.label()] = true
		}
		if len(labels) == 0 {
			continue
		}
		for l := range labels {
			ix.Collations = append(ix.Collations, l)
		}
		sort.Strings(ix.Collations)
		ix.Provider = "mixed"
		if len(providers) == 1 {
			for p := range providers {
				ix.Provider = p
			}
		}
		out = append(out, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pg: list collation-dependent indexes: %w", convertErr(err))
	}
	return out, nil
}

// collations maps every collation usable here to its provider and
// locale, with "default" (oid 100) resolved to the database's. The
// column names moved twice: ICU locales got their own column in 15
// (colliculocale) and a shared one in 17 (colllocale).
func (c *Conn) collations(ctx context.Context, major int) (map[uint32]collInfo, error) {
	collLocale := "c.collcollate"
	dbProvider, dbLocale := "'c'", "d.datcollate"
	switch {
	case major >= 17:
		collLocale = "CASE WHEN c.collprovider = 'c' THEN c.collcollate ELSE c.colllocale END"
		dbProvider = "d.datlocprovider"
		dbLocale = "CASE WHEN d.datlocprovider = 'c' THEN d.datcollate ELSE d.datlocale END"
	case major >= 15:
		collLocale = "CASE WHEN c.collprovider = 'i' THEN c.colliculocale ELSE c.collcollate END"
		dbProvider = "d.datlocprovider"
		dbLocale = "CASE WHEN d.datlocprovider = 'i' THEN d.daticulocale ELSE d.datcollate END"
	}
	rows, err := c.pgx.Query(ctx, `
		SELECT c.oid, c.collname, n.nspname,
		       CASE WHEN c.oid = 100 THEN `+dbProvider+` ELSE c.collprovider END::text,
		       coalesce(CASE WHEN c.oid = 100 THEN `+dbLocale+` ELSE `+collLocale+` END, ''),
		       c.collisdeterministic
		FROM pg_collation c
		JOIN pg_namespace n ON n.oid = c.collnamespace
		JOIN pg_database d ON d.datname = current_database()`)
	if err != nil {
		return nil, fmt.Errorf("pg: read collations: %w", convertErr(err))
	}
	out := map[uint32]collInfo{}
	for rows.Next() {
		var oid uint32
		var ci collInfo
		if err := rows.Scan(&oid, &ci.name, &ci.schema, &ci.provider, &ci.locale, &ci.deterministic); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pg: read collations: %w", convertErr(err))
		}
		ci.provider = providerName(ci.provider)
		out[oid] = ci
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pg: read collations: %w", convertErr(err))
	}
	return out, nil
}

// allCollations is collations for the server's major.
func (c *Conn) allCollations(ctx context.Context) (map[uint32]collInfo, error) {
	major, err := c.serverMajor(ctx)
	if err != nil {
		return nil, err
	}
	return c.collations(ctx, major)
}

// CollationMismatches compares each collation's recorded version
// (collversion, set at creation) with what the library reports now, and
// on PG15+ the current database's datcollversion with its default
// collation's. An empty result proves little for glibc: its "version" is
// the glibc release, so a changed locale definition of one release (or a
// LOCPATH swap) goes unnoticed; Amcheck is the real test.
func (c *Conn) CollationMismatches(ctx context.Context) ([]VersionMismatch, error) {
	major, err := c.serverMajor(ctx)
	if err != nil {
		return nil, err
	}
	// Collations of other encodings cannot be used in this database, and
	// asking for their version can fail.
	rows, err := c.pgx.Query(ctx, `
		SELECT n.nspname, c.collname, c.collversion, pg_collation_actual_version(c.oid)
		FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
		WHERE c.collversion IS NOT NULL
		  AND c.collencoding IN (-1, (SELECT encoding FROM pg_database WHERE datname = current_database()))
		  AND c.collversion IS DISTINCT FROM pg_collation_actual_version(c.oid)
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("pg: collation versions: %w", convertErr(err))
	}
	var out []VersionMismatch
	for rows.Next() {
		var m VersionMismatch
		var actual *string
		if err := rows.Scan(&m.Schema, &m.Name, &m.Recorded, &actual); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pg: collation versions: %w", convertErr(err))
		}
		m.Kind = "collation"
		if actual != nil {
			m.Actual = *actual
		}
		shown := m.Name
		if m.Schema != "pg_catalog" {
			shown = m.Schema + "." + m.Name
		}
		m.Object = `collation "` + shown + `"`
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pg: collation versions: %w", convertErr(err))
	}
	if major < 15 {
		return out, nil
	}
	var m VersionMismatch
	var actual *string
	err = c.pgx.QueryRow(ctx, `
		SELECT datname, datcollversion, pg_database_collation_actual_version(oid)
		FROM pg_database
		WHERE datname = current_database() AND datcollversion IS NOT NULL
		  AND datcollversion IS DISTINCT FROM pg_database_collation_actual_version(oid)`).Scan(&m.Name, &m.Recorded, &actual)
	switch {
	case err == pgx.ErrNoRows:
		return out, nil
	case err != nil:
		return nil, fmt.Errorf("pg: database collation version: %w", convertErr(err))
	}
	m.Kind = "database"
	m.Object = `database "` + m.Name + `"`
	if actual != nil {
		m.Actual = *actual
	}
	return append(out, m), nil
}

// ReindexScript is SQL to rebuild ix (from CollationIndexes) and then,
// for each of refresh (from CollationMismatches, may be nil), record the
// library version now in use, which is what silences Postgres's mismatch
// warnings; it belongs after the rebuild, never instead of it.
func ReindexScript(ix []CollationIndex, refresh []VersionMismatch) string {
	var b strings.Builder
	b.WriteString(`-- These indexes order text by a collation other than C/POSIX. A change of
-- the collation library (glibc or ICU upgrade, new base image) can change
-- that order and leave them corrupt, so rebuild them after one.
-- REINDEX CONCURRENTLY cannot run in a transaction block: do not use psql -1.
-- A unique index may fail to rebuild on duplicates that the old order let
-- in; resolve those rows, drop the leftover invalid *_ccnew index, rerun.
`)
	for _, x := range ix {
		fmt.Fprintf(&b, "REINDEX INDEX CONCURRENTLY %s;\n", pgx.Identifier{x.Schema, x.Index}.Sanitize())
	}
	if len(ix) == 0 {
		b.WriteString("-- (no index depends on such a collation)\n")
	}
	if len(refresh) > 0 {
		b.WriteString("-- Then record the collation versions now in use:\n")
	}
	for _, m := range refresh {
		switch m.Kind {
		case "database":
			fmt.Fprintf(&b, "ALTER DATABASE %s REFRESH COLLATION VERSION;\n", pgx.Identifier{m.Name}.Sanitize())
		case "collation":
			fmt.Fprintf(&b, "ALTER COLLATION %s REFRESH VERSION;\n", pgx.Identifier{m.Schema, m.Name}.Sanitize())
		}
	}
	return b.String()
}
