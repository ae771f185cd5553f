package pg

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Relation is a user relation as it is before a migration runs: what lock
// tracing compares against.
type Relation struct {
	OID    uint32
	Schema string
	Name   string
	// Kind is "table", "partitioned table", "materialized view", "view"
	// or "index".
	Kind string
	// Table is the schema-qualified table an index is on; "" otherwise.
	Table string
	// Filenode is pg_relation_filenode: 0 for relations without storage
	// (views, partitioned tables).
	Filenode uint32
	// Rows is an exact count(*) of a table or materialized view.
	Rows int64
}

// QName is schema.name, unquoted.
func (r Relation) QName() string { return r.Schema + "." + r.Name }

var relKinds = map[string]string{"r": "table", "p": "partitioned table", "m": "materialized view", "v": "view", "i": "index", "I": "index"}

// Relations lists the relations of the user schemas (as Snapshot defines
// them), sorted by name, with the exact row count of every table and
// materialized view: the seed's size, which lock findings quote.
func (c *Conn) Relations(ctx context.Context) ([]Relation, error) {
	rows, err := c.pgx.Query(ctx, `
SELECT c.oid::int8, n.nspname, c.relname, c.relkind::text, coalesce(tn.nspname || '.' || t.relname, ''),
	coalesce(pg_relation_filenode(c.oid)::int8, 0)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE c.relkind IN ('r', 'p', 'm', 'v', 'i', 'I')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
	WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, fmt.Errorf("pg: relations: %w", convertErr(err))
	}
	var out []Relation
	for rows.Next() {
		var r Relation
		var kind string
		var oid, filenode int64
		if err := rows.Scan(&oid, &r.Schema, &r.Name, &kind, &r.Table, &filenode); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pg: relations: %w", convertErr(err))
		}
		r.OID, r.Kind, r.Filenode = uint32(oid), relKinds[kind], uint32(filenode)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pg: relations: %w", convertErr(err))
	}

	// One statement counts every table.
	var counts []string
	for _, r := range out {
		if r.Kind == "table" || r.Kind == "partitioned table" || r.Kind == "materialized view" {
			counts = append(counts, fmt.Sprintf("SELECT %d::int8, count(*) FROM %s", r.OID, pgx.Identifier{r.Schema, r.Name}.Sanitize()))
		}
	}
	if len(counts) == 0 {
		return out, nil
	}
	n := map[uint32]int64{}
	crows, err := c.pgx.Query(ctx, strings.Join(counts, "\nUNION ALL\n"))
	if err != nil {
		return nil, fmt.Errorf("pg: count rows: %w", convertErr(err))
	}
	for crows.Next() {
		var oid, count int64
		if err := crows.Scan(&oid, &count); err != nil {
			crows.Close()
			return nil, fmt.Errorf("pg: count rows: %w", convertErr(err))
		}
		n[uint32(oid)] = count
	}
	if err := crows.Err(); err != nil {
		// A materialized view that was never refreshed cannot be read.
		if pe, ok := convertErr(err).(*Error); ok && pe.SQLState == "55000" {
			return out, nil
		}
		return nil, fmt.Errorf("pg: count rows: %w", convertErr(err))
	}
	for i := range out {
		out[i].Rows = n[out[i].OID]
	}
	return out, nil
}

// Held is what the session holds and has done, read inside its
// transaction right after a statement.
type Held struct {
	// Locks are the granted relation locks of this backend on the
	// relations asked about, by OID.
	Locks map[uint32][]string
	// Filenodes of the relations asked about that still exist (0 for
	// those without storage).
	Filenodes map[uint32]uint32
	// Scans counts the sequential scans of each relation asked about in
	// the current transaction (pg_stat_get_xact_numscans): a statement
	// that read the whole table, as CREATE INDEX, a CHECK or foreign key
	// validation, or SET NOT NULL do.
	Scans map[uint32]int64
	// LockTimeout is the session's lock_timeout setting ("0": none).
	LockTimeout string
}

// heldSQL reads locks, files, scans and the setting in one round trip.
// The query's own locks are on catalogs, outside the relations asked
// about.
const heldSQL = `
SELECT 'lock', l.relation::int8, l.mode, 0::int8, 0::int8 FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND l.relation::int8 = ANY($1)
UNION ALL
SELECT 'rel', c.oid::int8, '', coalesce(pg_relation_filenode(c.oid)::int8, 0), pg_stat_get_xact_numscans(c.oid)
FROM pg_class c WHERE c.oid::int8 = ANY($1)
UNION ALL
SELECT 'setting', 0, current_setting('lock_timeout'), 0, 0`

// Held reads what the session holds on the given relations.
func (c *Conn) Held(ctx context.Context, oids []uint32) (Held, error) {
	ids := make([]int64, len(oids))
	for i, o := range oids {
		ids[i] = int64(o)
	}
	h := Held{Locks: map[uint32][]string{}, Filenodes: map[uint32]uint32{}, Scans: map[uint32]int64{}}
	rows, err := c.pgx.Query(ctx, heldSQL, ids)
	if err != nil {
		return h, fmt.Errorf("pg: read locks: %w", convertErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var kind, text string
		var oid, filenode, n int64
		if err := rows.Scan(&kind, &oid, &text, &filenode, &n); err != nil {
			return h, fmt.Errorf("pg: read locks: %w", convertErr(err))
		}
		switch kind {
		case "lock":
			h.Locks[uint32(oid)] = append(h.Locks[uint32(oid)], text)
		case "rel":
			h.Filenodes[uint32(oid)], h.Scans[uint32(oid)] = uint32(filenode), n
		case "setting":
			h.LockTimeout = text
		}
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("pg: read locks: %w", convertErr(err))
	}
	for _, modes := range h.Locks {
		slices.SortFunc(modes, func(a, b string) int { return LockStrength(a) - LockStrength(b) })
	}
	return h, nil
}

// lockModes are the table lock modes, weakest first.
var lockModes = []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
	"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// LockStrength orders lock modes: 1 for AccessShareLock up to 8 for
// AccessExclusiveLock, 0 for a mode that is not a table lock mode.
func LockStrength(mode string) int { return slices.Index(lockModes, mode) + 1 }

// Blocks says what a table lock mode keeps other sessions from doing
// while it is held: "reads and writes", "writes", or "" for the modes
// that let both go on (ShareUpdateExclusiveLock and weaker only conflict
// with DDL and VACUUM).
func Blocks(mode string) string {
	switch mode {
	case "AccessExclusiveLock":
		return "reads and writes"
	case "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock":
		return "writes"
	}
	return ""
}
