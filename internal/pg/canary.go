package pg

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CanarySchema holds the collation canary; DropCanary removes it.
const CanarySchema = "breakwater_canary"

// CanaryTable is one collation's canary: an indexed text column filled
// with strings that collation implementations order differently.
type CanaryTable struct {
	Table, Index string // in CanarySchema
	Collation    string // as CollationIndex labels it: "default (en_US.UTF-8, libc)"
	Rows         int
}

// canaryWords are strings whose relative order differs between glibc
// releases (2.28 rewrote the tables: hyphens and spaces), between glibc
// and musl or ICU, and byte order: punctuation ignored at the first
// level, case, accents, digits against letters, ligatures and letters
// outside Latin-1.
var canaryWords = []string{
	"1-1", "11", "1 1", "1.1", "1_1", "-1", "+1", "1", "10", "9", "½",
	"a-b", "ab", "a b", "AB", "Ab", "aB", "a", "A", "b", "B", "z", "Z",
	"co-op", "coop", "co op", "'a", `"a"`, "@a", "#a", "~a", "_a",
	"e", "é", "è", "ê", "ë", "E", "É", "f",
	"ä", "ö", "ü", "o", "ø", "å", "aa", "æ", "ae", "ß", "ss", "ð", "th",
	"ı", "i", "I", "İ", "ﬁ", "fi", "ǆ", "dž",
	"ω", "Ω", "α", "ж", "Ж", "я", "日本", "한",
}

var canarySuffixes = []string{"", "-", " ", "x", "X", "0", ".", "-x", " x"}

// CreateCanary makes one canary per collation that the database's
// indexes use and could change with a library upgrade, the database
// default always among them. Indexes built now and checked after the
// runtime changes show a collation change even when the user's data
// would not.
func (c *Conn) CreateCanary(ctx context.Context) ([]CanaryTable, error) {
	colls, err := c.allCollations(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.pgx.Query(ctx, `
		SELECT DISTINCT coll::oid
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = i.relnamespace
		CROSS JOIN LATERAL unnest(x.indcollation::oid[]) coll
		WHERE coll <> 0 AND `+userSchemaFilter+`
		UNION SELECT 100::oid`)
	if err != nil {
		return nil, fmt.Errorf("pg: canary: list collations: %w", convertErr(err))
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("pg: canary: list collations: %w", convertErr(err))
	}
	type use struct {
		oid uint32
		ci  collInfo
	}
	var uses []use
	for _, o := range oids {
		ci, ok := colls[o]
		if !ok || ci.stable() {
			continue
		}
		uses = append(uses, use{o, ci})
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].ci.label() < uses[j].ci.label() })

	var words strings.Builder
	for i, w := range canaryWords {
		if i > 0 {
			words.WriteString(",")
		}
		words.WriteString(quoteLiteral(w))
	}
	var suffixes strings.Builder
	for i, s := range canarySuffixes {
		if i > 0 {
			suffixes.WriteString(",")
		}
		suffixes.WriteString(quoteLiteral(s))
	}
	schema := pgx.Identifier{CanarySchema}.Sanitize()
	if err := c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return nil, fmt.Errorf("pg: canary: %w", err)
	}
	var out []CanaryTable
	for i, u := range uses {
		t := CanaryTable{Table: fmt.Sprintf("c%d", i+1), Index: fmt.Sprintf("c%d_t", i+1), Collation: u.ci.label()}
		collate := ""
		if u.oid != 100 {
			collate = " COLLATE " + pgx.Identifier{u.ci.schema, u.ci.name}.Sanitize()
		}
		table := schema + "." + pgx.Identifier{t.Table}.Sanitize()
		// Inserted in descending byte order and then indexed, so the
		// index is built by sorting, as a REINDEX or restore builds it.
		sql := fmt.Sprintf(`CREATE TABLE %s (id serial PRIMARY KEY, t text%s NOT NULL);
COMMENT ON TABLE %s IS %s;
INSERT INTO %s (t)
SELECT w FROM (SELECT DISTINCT p || s || i AS w FROM unnest(ARRAY[%s]) p, unnest(ARRAY[%s]) s, generate_series(1, 3) i) x
ORDER BY w COLLATE "C" DESC;
CREATE INDEX %s ON %s (t);
ANALYZE %s`, table, collate, table, quoteLiteral("breakwater collation canary for "+t.Collation),
			table, words.String(), suffixes.String(),
			pgx.Identifier{t.Index}.Sanitize(), table, table)
		if err := c.Exec(ctx, sql); err != nil {
			return out, fmt.Errorf("pg: canary for %s: %w", t.Collation, err)
		}
		if err := c.pgx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&t.Rows); err != nil {
			return out, fmt.Errorf("pg: canary for %s: %w", t.Collation, convertErr(err))
		}
		out = append(out, t)
	}
	return out, nil
}

// DropCanary removes what CreateCanary made.
func (c *Conn) DropCanary(ctx context.Context) error {
	return c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{CanarySchema}.Sanitize()+" CASCADE")
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Duplicate is a key that a unique index should have kept out but that
// more than one row holds.
type Duplicate struct {
	Schema, Table, Index string
	Key                  string // the key's values, comma-separated
	Rows                 int64
}

// UniqueProbeReport is what UniqueProbe found.
type UniqueProbeReport struct {
	Probed     int // unique indexes probed
	Duplicates []Duplicate
}

// UniqueProbe looks for duplicate keys under each valid unique B-tree
// index over a collatable key, reading the table with index scans off:
// an index out of collation order misses the existing row and admits a
// second one, and only the table shows it.
func (c *Conn) UniqueProbe(ctx context.Context) (UniqueProbeReport, error) {
	var rep UniqueProbeReport
	rows, err := c.pgx.Query(ctx, `
		SELECT n.nspname, t.relname, i.relname, x.indnkeyatts,
		       array(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) k ORDER BY k),
		       coalesce(pg_get_expr(x.indpred, x.indrelid, true), '')
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_am am ON am.oid = i.relam
		WHERE x.indisunique AND x.indisvalid AND am.amname = 'btree' AND i.relkind = 'i'
		  AND t.relpersistence <> 't'
		  AND EXISTS (SELECT 1 FROM unnest(x.indcollation::oid[]) coll WHERE coll NOT IN (0, 950, 951))
		  AND `+userSchemaFilter+`
		ORDER BY 1, 2, 3`)
	if err != nil {
		return rep, fmt.Errorf("pg: unique probe: list indexes: %w", convertErr(err))
	}
	type probe struct {
		schema, table, index string
		n                    int
		keys                 []string
		pred                 string
	}
	probes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (probe, error) {
		var p probe
		err := r.Scan(&p.schema, &p.table, &p.index, &p.n, &p.keys, &p.pred)
		return p, err
	})
	if err != nil {
		return rep, fmt.Errorf("pg: unique probe: list indexes: %w", convertErr(err))
	}
	for _, p := range probes {
		var show, group, where []string
		for _, k := range p.keys {
			show = append(show, "("+k+")::text")
			group = append(group, "("+k+")")
			// NULLs never conflict in a unique index.
			where = append(where, "("+k+") IS NOT NULL")
		}
		if p.pred != "" {
			where = append(where, "("+p.pred+")")
		}
		q := fmt.Sprintf("SELECT concat_ws(', ', %s), count(*) FROM ONLY %s WHERE %s GROUP BY %s HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5",
			strings.Join(show, ", "), pgx.Identifier{p.schema, p.table}.Sanitize(),
			strings.Join(where, " AND "), strings.Join(group, ", "))
		dups, err := c.probeOne(ctx, q)
		if err != nil {
			return rep, fmt.Errorf("pg: unique probe of %s.%s: %w", p.schema, p.index, err)
		}
		rep.Probed++
		for _, d := range dups {
			d.Schema, d.Table, d.Index = p.schema, p.table, p.index
			rep.Duplicates = append(rep.Duplicates, d)
		}
	}
	return rep, nil
}

func (c *Conn) probeOne(ctx context.Context, q string) ([]Duplicate, error) {
	tx, err := c.pgx.Begin(ctx)
	if err != nil {
		return nil, convertErr(err)
	}
	defer tx.Rollback(context.Background())
	// The table, not the index under suspicion, must answer.
	if _, err := tx.Exec(ctx, "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off"); err != nil {
		return nil, convertErr(err)
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, convertErr(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Duplicate, error) {
		var d Duplicate
		err := r.Scan(&d.Key, &d.Rows)
		return d, err
	})
}

// Reindex rebuilds one index and says how long it took.
func (c *Conn) Reindex(ctx context.Context, schema, index string) (time.Duration, error) {
	t0 := time.Now()
	err := c.Exec(ctx, "REINDEX INDEX "+pgx.Identifier{schema, index}.Sanitize())
	return time.Since(t0), err
}
