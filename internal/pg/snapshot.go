package pg

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Snapshot is the shape of a database's user schemas: every schema but
// pg_catalog, information_schema, pg_toast* and pg_temp*, leaving out
// objects that belong to an extension. Every list is sorted (by byte
// order of its key), so two snapshots of the same schema are deeply
// equal; only a table's columns and an enum's labels keep their
// catalog order, since that order means something.
type Snapshot struct {
	Schemas     []string     `json:"schemas"`
	Extensions  []Extension  `json:"extensions"` // database level, all of them
	Tables      []Table      `json:"tables"`
	Indexes     []Index      `json:"indexes"`
	Constraints []Constraint `json:"constraints"`
	Triggers    []Trigger    `json:"triggers"`
	Sequences   []Sequence   `json:"sequences"`
	Enums       []Enum       `json:"enums"`
	Views       []View       `json:"views"`
	Functions   []Function   `json:"functions"`
}

// Extension is an installed extension.
type Extension struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Schema  string `json:"schema"`
}

// Table is an ordinary (relkind r) or partitioned (p) table.
type Table struct {
	Schema  string   `json:"schema"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // "table" or "partitioned table"
	Columns []Column `json:"columns"`
}

// Column is a table column; Columns are in attnum order.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // format_type
	NotNull bool   `json:"not_null"`
	// Default is pg_get_expr of the default, or of the generation
	// expression when Generated is set; "" for none.
	Default string `json:"default,omitempty"`
	// Identity is "ALWAYS", "BY DEFAULT" or "".
	Identity string `json:"identity,omitempty"`
	// Generated is "STORED", "VIRTUAL" (PG18) or "".
	Generated string `json:"generated,omitempty"`
	// Collation is set only when it is not the type's default; it is
	// schema-qualified unless it lives in pg_catalog.
	Collation string `json:"collation,omitempty"`
}

// Index is pg_get_indexdef of an index on a table or materialized view.
type Index struct {
	Schema     string `json:"schema"`
	Name       string `json:"name"`
	Table      string `json:"table"`
	Definition string `json:"definition"`
}

// Constraint is a table constraint (NOT NULL is a column property).
type Constraint struct {
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Name       string `json:"name"`
	Definition string `json:"definition"` // pg_get_constraintdef
}

// Trigger is a user (not internal) trigger.
type Trigger struct {
	Schema     string `json:"schema"`
	Table      string `json:"table"`
	Name       string `json:"name"`
	Definition string `json:"definition"` // pg_get_triggerdef
}

// Sequence includes the sequences behind serial and identity columns.
type Sequence struct {
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Start     int64  `json:"start"`
	Increment int64  `json:"increment"`
	Min       int64  `json:"min"`
	Max       int64  `json:"max"`
	Cycle     bool   `json:"cycle"`
}

// Enum is an enum type with its labels in sort order.
type Enum struct {
	Schema string   `json:"schema"`
	Name   string   `json:"name"`
	Labels []string `json:"labels"`
}

// View is a view or materialized view.
type View struct {
	Schema     string `json:"schema"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`       // "view" or "materialized view"
	Definition string `json:"definition"` // pg_get_viewdef
}

// Function is a function or procedure (not an aggregate), known by its
// signature; its definition is kept as a hash.
type Function struct {
	Schema    string `json:"schema"`
	Signature string `json:"signature"` // name(identity arguments)
	Kind      string `json:"kind"`      // "function" or "procedure"
	// SHA256 is the hex sha256 of pg_get_functiondef.
	SHA256 string `json:"sha256"`
}

func (t Table) key() string      { return t.Schema + "." + t.Name }
func (i Index) key() string      { return i.Schema + "." + i.Name }
func (c Constraint) key() string { return c.Schema + "." + c.Table + "." + c.Name }
func (t Trigger) key() string    { return t.Schema + "." + t.Table + "." + t.Name }
func (s Sequence) key() string   { return s.Schema + "." + s.Name }
func (e Enum) key() string       { return e.Schema + "." + e.Name }
func (v View) key() string       { return v.Schema + "." + v.Name }
func (f Function) key() string   { return f.Schema + "." + f.Signature }

// snapshotSQL reads the whole catalog in one statement, so the snapshot
// is consistent without a transaction. %[1]s is the generated-column
// expression and %[2]s the filter leaving out aggregates, both of which
// depend on the server version.
const snapshotSQL = `
WITH ns AS (
	SELECT n.oid, n.nspname FROM pg_namespace n
	WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	  AND n.nspname NOT LIKE 'pg\_toast%%' AND n.nspname NOT LIKE 'pg\_temp%%'
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d
		WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
), rels AS (
	SELECT c.oid, ns.nspname, c.relname, c.relkind::text AS relkind FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
	WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
		WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT json_build_object(
	'schemas', (SELECT coalesce(json_agg(nspname), '[]') FROM ns),
	'extensions', (SELECT coalesce(json_agg(json_build_object(
			'name', e.extname, 'version', e.extversion, 'schema', n.nspname)), '[]')
		FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace),
	'tables', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'name', r.relname, 'kind', r.relkind,
			'columns', (SELECT coalesce(json_agg(json_build_object(
					'name', a.attname,
					'type', format_type(a.atttypid, a.atttypmod),
					'not_null', a.attnotnull,
					'default', pg_get_expr(ad.adbin, ad.adrelid),
					'identity', a.attidentity::text,
					'generated', %[1]s,
					-- Subqueries, not joins: for a join the planner
					-- scans all of pg_type and pg_collation once per table.
					'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT t.typcollation FROM pg_type t WHERE t.oid = a.atttypid) THEN
						(SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname ELSE cn.nspname || '.' || co.collname END
						FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
					END
				) ORDER BY a.attnum), '[]')
				FROM pg_attribute a
				LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
				WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped)
		)), '[]') FROM rels r WHERE r.relkind IN ('r', 'p')),
	'indexes', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'name', ic.relname, 'table', r.relname,
			'definition', pg_get_indexdef(i.indexrelid))), '[]')
		FROM pg_index i JOIN rels r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE r.relkind IN ('r', 'p', 'm')),
	'constraints', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'table', r.relname, 'name', co.conname,
			'definition', pg_get_constraintdef(co.oid))), '[]')
		FROM pg_constraint co JOIN rels r ON r.oid = co.conrelid
		WHERE r.relkind IN ('r', 'p') AND co.contype <> 'n'),
	'triggers', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'table', r.relname, 'name', tg.tgname,
			'definition', pg_get_triggerdef(tg.oid))), '[]')
		FROM pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid
		WHERE NOT tg.tgisinternal),
	'sequences', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'name', r.relname, 'type', format_type(s.seqtypid, NULL),
			'start', s.seqstart, 'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax,
			'cycle', s.seqcycle)), '[]')
		FROM pg_sequence s JOIN rels r ON r.oid = s.seqrelid),
	'enums', (SELECT coalesce(json_agg(json_build_object(
			'schema', ns.nspname, 'name', t.typname,
			'labels', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]')
				FROM pg_enum e WHERE e.enumtypid = t.oid))), '[]')
		FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
		WHERE t.typtype = 'e' AND NOT EXISTS (SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')),
	'views', (SELECT coalesce(json_agg(json_build_object(
			'schema', r.nspname, 'name', r.relname, 'kind', r.relkind,
			'definition', pg_get_viewdef(r.oid))), '[]')
		FROM rels r WHERE r.relkind IN ('v', 'm')),
	'functions', (SELECT coalesce(json_agg(json_build_object(
			'schema', ns.nspname,
			'signature', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
			'kind', %[3]s,
			'definition', pg_get_functiondef(p.oid))), '[]')
		FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
		WHERE %[2]s AND NOT EXISTS (SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'))
)::text`

// Snapshot reads the schema of the session's database in one catalog
// query. PostgreSQL 10 or later.
func (c *Conn) Snapshot(ctx context.Context) (*Snapshot, error) {
	var num int
	if err := c.pgx.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return nil, fmt.Errorf("pg: snapshot: server version: %w", convertErr(err))
	}
	generated, notAgg, kind := "''", "NOT p.proisagg", "'f'"
	if num >= 120000 {
		generated = "a.attgenerated::text"
	}
	if num >= 110000 {
		notAgg, kind = "p.prokind <> 'a'", "p.prokind::text"
	}
	var doc string
	if err := c.pgx.QueryRow(ctx, fmt.Sprintf(snapshotSQL, generated, notAgg, kind)).Scan(&doc); err != nil {
		return nil, fmt.Errorf("pg: snapshot: %w", convertErr(err))
	}
	var raw struct {
		Snapshot
		Functions []struct {
			Schema     string `json:"schema"`
			Signature  string `json:"signature"`
			Kind       string `json:"kind"`
			Definition string `json:"definition"`
		} `json:"functions"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("pg: snapshot: decode catalog: %w", err)
	}
	s := raw.Snapshot
	s.Functions = make([]Function, 0, len(raw.Functions))
	for _, f := range raw.Functions {
		sum := sha256.Sum256([]byte(f.Definition))
		k := "function"
		if f.Kind == "p" {
			k = "procedure"
		}
		s.Functions = append(s.Functions, Function{Schema: f.Schema, Signature: f.Signature, Kind: k, SHA256: hex.EncodeToString(sum[:])})
	}
	for i := range s.Tables {
		t := &s.Tables[i]
		t.Kind = map[string]string{"r": "table", "p": "partitioned table"}[t.Kind]
		for j := range t.Columns {
			col := &t.Columns[j]
			col.Identity = map[string]string{"a": "ALWAYS", "d": "BY DEFAULT"}[col.Identity]
			col.Generated = map[string]string{"s": "STORED", "v": "VIRTUAL"}[col.Generated]
		}
	}
	for i := range s.Views {
		s.Views[i].Kind = map[string]string{"v": "view", "m": "materialized view"}[s.Views[i].Kind]
	}
	s.sort()
	return &s, nil
}

func sortByKey[T any](xs []T, key func(T) string) {
	slices.SortFunc(xs, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
}

func (s *Snapshot) sort() {
	slices.Sort(s.Schemas)
	sortByKey(s.Extensions, func(e Extension) string { return e.Name })
	sortByKey(s.Tables, Table.key)
	sortByKey(s.Indexes, Index.key)
	sortByKey(s.Constraints, Constraint.key)
	sortByKey(s.Triggers, Trigger.key)
	sortByKey(s.Sequences, Sequence.key)
	sortByKey(s.Enums, Enum.key)
	sortByKey(s.Views, View.key)
	sortByKey(s.Functions, Function.key)
}

// Difference is one change between two snapshots. Its String is the
// line DiffSnapshots gives, "Kind Object: Detail", e.g.
// "column public.users.email: NOT NULL added".
type Difference struct {
	Kind   string // extension, schema, table, column, constraint, index, trigger, sequence, enum, view, materialized view, function, procedure
	Object string // schema-qualified, unquoted: public.users.email, public.f(integer)
	Detail string
}

func (d Difference) String() string { return d.Kind + " " + d.Object + ": " + d.Detail }

// DiffSnapshots describes in words how b differs from a, one line per
// difference, nil when there are none; see DiffSnapshotsDetailed.
func DiffSnapshots(a, b *Snapshot) []string {
	ds := DiffSnapshotsDetailed(a, b)
	if len(ds) == 0 {
		return nil
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// DiffSnapshotsDetailed lists the differences from a to b, nil when
// there are none. The order is fixed: extensions, schemas, tables and
// their columns, constraints, indexes, triggers, sequences, enums,
// views, functions; within a kind by object name. It does not depend on
// the order of the snapshots' lists. A table added or dropped is one
// difference: its columns, constraints, indexes and triggers are not
// listed on their own. A nil snapshot is an empty one.
func DiffSnapshotsDetailed(a, b *Snapshot) []Difference {
	if a == nil {
		a = &Snapshot{}
	}
	if b == nil {
		b = &Snapshot{}
	}
	var out []Difference
	add := func(kind, obj, format string, args ...any) {
		out = append(out, Difference{Kind: kind, Object: obj, Detail: fmt.Sprintf(format, args...)})
	}
	change := func(kind, obj, what, x, y string) {
		if x != y {
			add(kind, obj, "%s %s → %s", what, x, y)
		}
	}

	diffKeyed(a.Extensions, b.Extensions, func(e Extension) string { return e.Name },
		func(e Extension) { add("extension", e.Name, "added: version %s", e.Version) },
		func(e Extension) { add("extension", e.Name, "dropped") },
		func(x, y Extension) {
			change("extension", x.Name, "version", x.Version, y.Version)
			change("extension", x.Name, "schema", x.Schema, y.Schema)
		})

	diffKeyed(a.Schemas, b.Schemas, func(s string) string { return s },
		func(s string) { add("schema", s, "added") },
		func(s string) { add("schema", s, "dropped") },
		func(x, y string) {})

	// Relations added or dropped as a whole, whose parts go unmentioned.
	gone := map[string]bool{}
	mark := func(x, y map[string]bool) {
		for k := range x {
			if !y[k] {
				gone[k] = true
			}
		}
	}
	aRels, bRels := map[string]bool{}, map[string]bool{}
	for _, t := range a.Tables {
		aRels[t.key()] = true
	}
	for _, v := range a.Views {
		aRels[v.key()] = true
	}
	for _, t := range b.Tables {
		bRels[t.key()] = true
	}
	for _, v := range b.Views {
		bRels[v.key()] = true
	}
	mark(aRels, bRels)
	mark(bRels, aRels)

	diffKeyed(a.Tables, b.Tables, Table.key,
		func(t Table) { add("table", t.key(), "added") },
		func(t Table) { add("table", t.key(), "dropped") },
		func(x, y Table) {
			change("table", x.key(), "kind", x.Kind, y.Kind)
			diffColumns(x, y, add, change)
		})

	// Constraints, indexes and triggers go with their table: a dropped or
	// added table is one line, not one per object it owned.
	owned := func(kind, key, table, def string, added bool) {
		switch {
		case gone[table]:
		case added:
			add(kind, key, "added: %s", def)
		default:
			add(kind, key, "dropped")
		}
	}
	diffOwned("constraint", a.Constraints, b.Constraints, Constraint.key, func(c Constraint) (string, string) { return c.Schema + "." + c.Table, c.Definition }, owned, change)
	diffOwned("index", a.Indexes, b.Indexes, Index.key, func(i Index) (string, string) { return i.Schema + "." + i.Table, i.Definition }, owned, change)
	diffOwned("trigger", a.Triggers, b.Triggers, Trigger.key, func(t Trigger) (string, string) { return t.Schema + "." + t.Table, t.Definition }, owned, change)

	diffKeyed(a.Sequences, b.Sequences, Sequence.key,
		func(s Sequence) { add("sequence", s.key(), "added") },
		func(s Sequence) { add("sequence", s.key(), "dropped") },
		func(x, y Sequence) {
			k := x.key()
			change("sequence", k, "type", x.Type, y.Type)
			change("sequence", k, "start", fmt.Sprint(x.Start), fmt.Sprint(y.Start))
			change("sequence", k, "increment", fmt.Sprint(x.Increment), fmt.Sprint(y.Increment))
			change("sequence", k, "min", fmt.Sprint(x.Min), fmt.Sprint(y.Min))
			change("sequence", k, "max", fmt.Sprint(x.Max), fmt.Sprint(y.Max))
			change("sequence", k, "cycle", onOff(x.Cycle), onOff(y.Cycle))
		})

	diffKeyed(a.Enums, b.Enums, Enum.key,
		func(e Enum) { add("enum", e.key(), "added: %s", quoteList(e.Labels)) },
		func(e Enum) { add("enum", e.key(), "dropped") },
		func(x, y Enum) {
			k := x.key()
			for _, l := range x.Labels {
				if !slices.Contains(y.Labels, l) {
					add("enum", k, "label %q removed", l)
				}
			}
			for _, l := range y.Labels {
				if !slices.Contains(x.Labels, l) {
					add("enum", k, "label %q added", l)
				}
			}
			if xc, yc := common(x.Labels, y.Labels), common(y.Labels, x.Labels); !slices.Equal(xc, yc) {
				add("enum", k, "labels reordered: %s → %s", quoteList(xc), quoteList(yc))
			}
		})

	diffKeyed(a.Views, b.Views, View.key,
		func(v View) { add(v.Kind, v.key(), "added") },
		func(v View) { add(v.Kind, v.key(), "dropped") },
		func(x, y View) {
			if x.Kind != y.Kind {
				add(y.Kind, x.key(), "kind %s → %s", x.Kind, y.Kind)
			} else if x.Definition != y.Definition {
				add(x.Kind, x.key(), "definition changed")
			}
		})

	diffKeyed(a.Functions, b.Functions, Function.key,
		func(f Function) { add(f.Kind, f.key(), "added") },
		func(f Function) { add(f.Kind, f.key(), "dropped") },
		func(x, y Function) {
			if x.Kind != y.Kind {
				add(y.Kind, x.key(), "kind %s → %s", x.Kind, y.Kind)
			} else if x.SHA256 != y.SHA256 {
				add(x.Kind, x.key(), "definition changed")
			}
		})
	return out
}

func diffColumns(x, y Table, add func(kind, obj, format string, args ...any), change func(kind, obj, what, a, b string)) {
	names := func(cs []Column) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.Name
		}
		return out
	}
	byName := func(cs []Column) map[string]Column {
		m := make(map[string]Column, len(cs))
		for _, c := range cs {
			m[c.Name] = c
		}
		return m
	}
	xm, ym := byName(x.Columns), byName(y.Columns)
	keys := make([]string, 0, len(xm)+len(ym))
	for k := range xm {
		keys = append(keys, k)
	}
	for k := range ym {
		if _, ok := xm[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, n := range keys {
		obj := x.key() + "." + n
		a, inA := xm[n]
		b, inB := ym[n]
		switch {
		case !inA:
			add("column", obj, "added: %s", b.describe())
		case !inB:
			add("column", obj, "dropped")
		default:
			change("column", obj, "type", a.Type, b.Type)
			if a.NotNull != b.NotNull {
				add("column", obj, "NOT NULL %s", map[bool]string{true: "added", false: "removed"}[b.NotNull])
			}
			addRemove := func(what, x, y string) {
				switch {
				case x == y:
				case x == "":
					add("column", obj, "%s added: %s", what, y)
				case y == "":
					add("column", obj, "%s removed: %s", what, x)
				default:
					add("column", obj, "%s %s → %s", what, x, y)
				}
			}
			if a.Generated != "" || b.Generated != "" {
				addRemove("generated", a.Generated, b.Generated)
				addRemove("expression", a.Default, b.Default)
			} else {
				addRemove("default", a.Default, b.Default)
			}
			addRemove("identity", a.Identity, b.Identity)
			addRemove("collation", a.Collation, b.Collation)
		}
	}
	if xc, yc := common(names(x.Columns), names(y.Columns)), common(names(y.Columns), names(x.Columns)); !slices.Equal(xc, yc) {
		add("table", x.key(), "column order %s → %s", strings.Join(xc, ", "), strings.Join(yc, ", "))
	}
}

// describe is a column as in CREATE TABLE, without its name.
func (c Column) describe() string {
	s := c.Type
	if c.Collation != "" {
		s += " COLLATE " + c.Collation
	}
	if c.NotNull {
		s += " NOT NULL"
	}
	switch {
	case c.Generated != "":
		s += " GENERATED ALWAYS AS (" + c.Default + ") " + c.Generated
	case c.Default != "":
		s += " DEFAULT " + c.Default
	}
	if c.Identity != "" {
		s += " GENERATED " + c.Identity + " AS IDENTITY"
	}
	return s
}

// diffKeyed calls added, dropped or changed for each key of the union of
// a and b, in key order.
// diffOwned diffs objects that belong to a table and are described by one
// definition.
func diffOwned[T any](kind string, a, b []T, key func(T) string, of func(T) (table, def string),
	owned func(kind, key, table, def string, added bool), change func(kind, obj, what, x, y string)) {
	diffKeyed(a, b, key,
		func(x T) { t, d := of(x); owned(kind, key(x), t, d, true) },
		func(x T) { t, d := of(x); owned(kind, key(x), t, d, false) },
		func(x, y T) { _, dx := of(x); _, dy := of(y); change(kind, key(x), "definition", dx, dy) })
}

func diffKeyed[T any](a, b []T, key func(T) string, added, dropped func(T), changed func(x, y T)) {
	am, bm := make(map[string]T, len(a)), make(map[string]T, len(b))
	keys := make([]string, 0, len(a)+len(b))
	for _, x := range a {
		am[key(x)] = x
		keys = append(keys, key(x))
	}
	for _, y := range b {
		bm[key(y)] = y
		keys = append(keys, key(y))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		x, inA := am[k]
		y, inB := bm[k]
		switch {
		case !inA:
			added(y)
		case !inB:
			dropped(x)
		default:
			changed(x, y)
		}
	}
}

// common is xs without the elements missing from ys, in xs's order.
func common(xs, ys []string) []string {
	var out []string
	for _, x := range xs {
		if slices.Contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
