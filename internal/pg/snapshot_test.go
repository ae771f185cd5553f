package pg

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// snapshotSchema has one or more of every kind of object Snapshot reads.
const snapshotSchema = `
CREATE SCHEMA app;
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE public.counter;
CREATE TABLE public.users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email varchar(255) NOT NULL,
	bio varchar(255),
	name text COLLATE "C",
	nick text,
	mood public.mood DEFAULT 'ok',
	email_lower text GENERATED ALWAYS AS (lower(email)) STORED,
	created timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT users_email_key UNIQUE (email),
	CONSTRAINT users_bio_check CHECK (bio <> '')
);
CREATE TABLE public.audit (id serial PRIMARY KEY, user_id bigint REFERENCES public.users, at timestamptz);
CREATE TABLE app.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX users_created ON public.users (created);
CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
CREATE PROCEDURE app.p() LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'p'; END$$;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.created := now(); RETURN NEW; END$$;
CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch();
CREATE VIEW public.active_users AS SELECT id, email FROM public.users WHERE mood <> 'sad';
CREATE MATERIALIZED VIEW app.user_count AS SELECT count(*) AS n FROM public.users;
CREATE INDEX user_count_n ON app.user_count (n);
`

func snapshotDB(t *testing.T, name, schema string) (*DB, *Snapshot) {
	t.Helper()
	cl := sharedCluster(t)
	ctx := ctxT(t)
	db, err := cl.Scenario(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if schema != "" {
		if err := db.Exec(ctx, schema); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func TestSnapshotStable(t *testing.T) {
	db, s1 := snapshotDB(t, "snapshot_stable", snapshotSchema)
	s2, err := db.Snapshot(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s1, s2) {
		t.Errorf("two snapshots differ:\n%+v\n%+v", s1, s2)
	}
	if d := DiffSnapshots(s1, s2); len(d) != 0 {
		t.Errorf("diff of equal snapshots: %q", d)
	}
	// A JSON round trip keeps it equal.
	js, err := json.Marshal(s1)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*s1, back) {
		t.Errorf("JSON round trip differs:\n%s", js)
	}

	if !slices.Equal(s1.Schemas, []string{"app", "public"}) {
		t.Errorf("schemas %q", s1.Schemas)
	}
	var users *Table
	for i := range s1.Tables {
		if s1.Tables[i].key() == "public.users" {
			users = &s1.Tables[i]
		}
		if s1.Tables[i].key() == "app.events" && s1.Tables[i].Kind != "partitioned table" {
			t.Errorf("app.events: %+v", s1.Tables[i])
		}
	}
	if users == nil {
		t.Fatalf("no public.users in %+v", s1.Tables)
	}
	wantCols := []Column{
		{Name: "id", Type: "bigint", NotNull: true, Identity: "ALWAYS"},
		{Name: "email", Type: "character varying(255)", NotNull: true},
		{Name: "bio", Type: "character varying(255)"},
		{Name: "name", Type: "text", Collation: "C"},
		{Name: "nick", Type: "text"},
		{Name: "mood", Type: "mood", Default: "'ok'::mood"},
		{Name: "email_lower", Type: "text", Default: "lower((email)::text)", Generated: "STORED"},
		{Name: "created", Type: "timestamp with time zone", NotNull: true, Default: "now()"},
	}
	if !reflect.DeepEqual(users.Columns, wantCols) {
		t.Errorf("users columns\n got %+v\nwant %+v", users.Columns, wantCols)
	}

	keys := func(n int, key func(int) string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, key(i))
		}
		return out
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s\n got %q\nwant %q", what, got, want)
		}
	}
	check("tables", keys(len(s1.Tables), func(i int) string { return s1.Tables[i].key() }),
		[]string{"app.events", "app.events_2024", "public.audit", "public.users"})
	check("indexes", keys(len(s1.Indexes), func(i int) string { return s1.Indexes[i].key() }),
		[]string{"app.user_count_n", "public.audit_pkey", "public.users_created", "public.users_email_key", "public.users_pkey"})
	check("constraints", keys(len(s1.Constraints), func(i int) string { return s1.Constraints[i].key() + " " + s1.Constraints[i].Definition }),
		[]string{
			"public.audit.audit_pkey PRIMARY KEY (id)",
			"public.audit.audit_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)",
			"public.users.users_bio_check CHECK (((bio)::text <> ''::text))",
			"public.users.users_email_key UNIQUE (email)",
			"public.users.users_pkey PRIMARY KEY (id)",
		})
	check("triggers", keys(len(s1.Triggers), func(i int) string { return s1.Triggers[i].key() }),
		[]string{"public.users.users_touch"})
	check("sequences", keys(len(s1.Sequences), func(i int) string { return s1.Sequences[i].key() }),
		[]string{"public.audit_id_seq", "public.counter", "public.users_id_seq"})
	check("enums", keys(len(s1.Enums), func(i int) string { return s1.Enums[i].key() + " " + quoteList(s1.Enums[i].Labels) }),
		[]string{`public.mood "sad", "ok", "happy"`})
	check("views", keys(len(s1.Views), func(i int) string { return s1.Views[i].Kind + " " + s1.Views[i].key() }),
		[]string{"materialized view app.user_count", "view public.active_users"})
	check("functions", keys(len(s1.Functions), func(i int) string { return s1.Functions[i].Kind + " " + s1.Functions[i].key() }),
		[]string{"procedure app.p()", "function public.f(integer)", "function public.touch()"})
	check("extensions", keys(len(s1.Extensions), func(i int) string { return s1.Extensions[i].Name }),
		[]string{"plpgsql"})
	for _, f := range s1.Functions {
		if len(f.SHA256) != 64 {
			t.Errorf("%s: sha256 %q", f.key(), f.SHA256)
		}
	}
	if c := s1.Sequences[1]; c.Type != "bigint" || c.Increment != 1 || c.Min != 1 || c.Max != 1<<63-1 || c.Cycle {
		t.Errorf("counter %+v", c)
	}
}

func TestSnapshotDiffChanges(t *testing.T) {
	db, before := snapshotDB(t, "snapshot_diff", snapshotSchema)
	ctx := ctxT(t)
	for _, sql := range []string{
		`ALTER TABLE public.users ALTER COLUMN bio TYPE text`,
		`ALTER TABLE public.users ALTER COLUMN nick SET NOT NULL`,
		`DROP TABLE public.audit`,
		`CREATE INDEX users_nick ON public.users (nick)`,
		`ALTER TYPE public.mood ADD VALUE 'meh'`,
		`CREATE OR REPLACE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 2'`,
		`DROP TRIGGER users_touch ON public.users`,
		`CREATE OR REPLACE VIEW public.active_users AS SELECT id, email FROM public.users WHERE mood <> 'happy'`,
		`ALTER SEQUENCE public.counter INCREMENT BY 5`,
	} {
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	after, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"table public.audit: dropped",
		"column public.users.bio: type character varying(255) → text",
		"column public.users.nick: NOT NULL added",
		// The CHECK loses its cast now that bio is text.
		"constraint public.users.users_bio_check: definition CHECK (((bio)::text <> ''::text)) → CHECK ((bio <> ''::text))",
		"index public.users_nick: added: CREATE INDEX users_nick ON public.users USING btree (nick)",
		"trigger public.users.users_touch: dropped",
		"sequence public.audit_id_seq: dropped",
		"sequence public.counter: increment 1 → 5",
		`enum public.mood: label "meh" added`,
		"view public.active_users: definition changed",
		"function public.f(integer): definition changed",
	}
	got := DiffSnapshots(before, after)
	if !slices.Equal(got, want) {
		t.Errorf("diff\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	// The order depends neither on the run nor on the lists' order.
	for i := 0; i < 5; i++ {
		a, b := shuffled(t, before), shuffled(t, after)
		if again := DiffSnapshots(a, b); !slices.Equal(again, got) {
			t.Fatalf("run %d: %q", i, again)
		}
	}

	back := DiffSnapshots(after, before)
	for _, line := range []string{
		"table public.audit: added",
		"column public.users.nick: NOT NULL removed",
		"index public.users_nick: dropped",
		`enum public.mood: label "meh" removed`,
		"sequence public.counter: increment 5 → 1",
	} {
		if !slices.Contains(back, line) {
			t.Errorf("reverse diff lacks %q: %q", line, back)
		}
	}
}

// shuffled is a deep copy of s with its top-level lists shuffled.
func shuffled(t *testing.T, s *Snapshot) *Snapshot {
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c Snapshot
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	shuffle := func(n int, swap func(i, j int)) { rand.Shuffle(n, swap) }
	shuffle(len(c.Schemas), func(i, j int) { c.Schemas[i], c.Schemas[j] = c.Schemas[j], c.Schemas[i] })
	shuffle(len(c.Tables), func(i, j int) { c.Tables[i], c.Tables[j] = c.Tables[j], c.Tables[i] })
	shuffle(len(c.Indexes), func(i, j int) { c.Indexes[i], c.Indexes[j] = c.Indexes[j], c.Indexes[i] })
	shuffle(len(c.Constraints), func(i, j int) { c.Constraints[i], c.Constraints[j] = c.Constraints[j], c.Constraints[i] })
	shuffle(len(c.Triggers), func(i, j int) { c.Triggers[i], c.Triggers[j] = c.Triggers[j], c.Triggers[i] })
	shuffle(len(c.Sequences), func(i, j int) { c.Sequences[i], c.Sequences[j] = c.Sequences[j], c.Sequences[i] })
	shuffle(len(c.Views), func(i, j int) { c.Views[i], c.Views[j] = c.Views[j], c.Views[i] })
	shuffle(len(c.Functions), func(i, j int) { c.Functions[i], c.Functions[j] = c.Functions[j], c.Functions[i] })
	return &c
}

func TestSnapshotExcludesExtensionObjects(t *testing.T) {
	db, before := snapshotDB(t, "snapshot_ext", "CREATE SCHEMA ext; CREATE TABLE public.t (v int)")
	ctx := ctxT(t)
	if err := db.Exec(ctx, "CREATE EXTENSION amcheck SCHEMA ext"); err != nil {
		t.Skipf("no amcheck: %v", err)
	}
	after, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	for _, e := range after.Extensions {
		if e.Name == "amcheck" {
			version = e.Version
			if e.Schema != "ext" {
				t.Errorf("amcheck %+v", e)
			}
		}
	}
	if version == "" {
		t.Fatalf("amcheck not listed: %+v", after.Extensions)
	}
	for _, f := range after.Functions {
		t.Errorf("extension function listed: %+v", f)
	}
	want := []string{"extension amcheck: added: version " + version}
	if got := DiffSnapshots(before, after); !slices.Equal(got, want) {
		t.Errorf("diff %q, want %q", got, want)
	}
}

// TestDiffSnapshotsCases covers the wording the catalog tests do not
// reach, without a server.
func TestDiffSnapshotsCases(t *testing.T) {
	users := func(cols ...Column) Table {
		return Table{Schema: "public", Name: "users", Kind: "table", Columns: cols}
	}
	a := &Snapshot{
		Schemas:     []string{"old", "public"},
		Extensions:  []Extension{{Name: "pg_trgm", Version: "1.5", Schema: "public"}},
		Tables:      []Table{users(Column{Name: "a", Type: "int"}, Column{Name: "b", Type: "text", NotNull: true, Default: "'x'::text"}, Column{Name: "c", Type: "text"}), {Schema: "public", Name: "gone", Kind: "table"}},
		Constraints: []Constraint{{Schema: "public", Table: "gone", Name: "gone_pkey", Definition: "PRIMARY KEY (id)"}, {Schema: "public", Table: "users", Name: "users_check", Definition: "CHECK (a > 0)"}},
		Enums:       []Enum{{Schema: "public", Name: "mood", Labels: []string{"sad", "meh", "ok"}}},
		Sequences:   []Sequence{{Schema: "public", Name: "s", Type: "bigint", Start: 1, Increment: 1, Min: 1, Max: 100}},
		Functions:   []Function{{Schema: "public", Signature: "f(integer)", Kind: "function", SHA256: "aa"}},
	}
	b := &Snapshot{
		Schemas:     []string{"public"},
		Extensions:  []Extension{{Name: "pg_trgm", Version: "1.6", Schema: "public"}},
		Tables:      []Table{users(Column{Name: "c", Type: "text", Collation: "C"}, Column{Name: "b", Type: "text", Default: "'y'::text"}, Column{Name: "d", Type: "integer", NotNull: true, Identity: "BY DEFAULT"})},
		Constraints: []Constraint{{Schema: "public", Table: "users", Name: "users_check", Definition: "CHECK (a > 1)"}},
		Enums:       []Enum{{Schema: "public", Name: "mood", Labels: []string{"ok", "sad"}}},
		Sequences:   []Sequence{{Schema: "public", Name: "s", Type: "integer", Start: 1, Increment: 1, Min: 1, Max: 100, Cycle: true}},
		Functions:   []Function{{Schema: "public", Signature: "f(integer)", Kind: "function", SHA256: "aa"}, {Schema: "public", Signature: "p()", Kind: "procedure", SHA256: "bb"}},
	}
	want := []string{
		"extension pg_trgm: version 1.5 → 1.6",
		"schema old: dropped",
		"table public.gone: dropped",
		"column public.users.a: dropped",
		"column public.users.b: NOT NULL removed",
		"column public.users.b: default 'x'::text → 'y'::text",
		"column public.users.c: collation added: C",
		"column public.users.d: added: integer NOT NULL GENERATED BY DEFAULT AS IDENTITY",
		"table public.users: column order b, c → c, b",
		"constraint public.users.users_check: definition CHECK (a > 0) → CHECK (a > 1)",
		"sequence public.s: type bigint → integer",
		"sequence public.s: cycle off → on",
		`enum public.mood: label "meh" removed`,
		`enum public.mood: labels reordered: "sad", "ok" → "ok", "sad"`,
		"procedure public.p(): added",
	}
	if got := DiffSnapshots(a, b); !slices.Equal(got, want) {
		t.Errorf("diff\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if got := DiffSnapshotsDetailed(a, b)[0]; got != (Difference{Kind: "extension", Object: "pg_trgm", Detail: "version 1.5 → 1.6"}) {
		t.Errorf("detailed %+v", got)
	}
	if got := DiffSnapshots(nil, &Snapshot{Schemas: []string{"x"}}); !slices.Equal(got, []string{"schema x: added"}) {
		t.Errorf("from nil: %q", got)
	}
	if got := DiffSnapshots(a, a); got != nil {
		t.Errorf("self diff %q", got)
	}
}

// The catalog query reads every major the tests have: the columns it
// asks for differ between them.
func TestSnapshotAllMajors(t *testing.T) {
	eachMajor(t, "snapshot", func(t *testing.T, ctx context.Context, cl *Cluster, db *DB) {
		if err := db.Exec(ctx, `
			CREATE TYPE mood AS ENUM ('sad', 'ok');
			CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, m mood, v text NOT NULL DEFAULT '');
			CREATE INDEX t_v ON t (v);
			CREATE VIEW tv AS SELECT id, v FROM t;
			CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';`); err != nil {
			t.Fatal(err)
		}
		a, err := db.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(ctx, `ALTER TABLE t ALTER COLUMN v DROP NOT NULL`); err != nil {
			t.Fatal(err)
		}
		b2, err := db.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := DiffSnapshots(a, b2); len(got) != 1 || got[0] != "column public.t.v: NOT NULL removed" {
			t.Errorf("diff = %q", got)
		}
		if len(a.Tables) != 1 || len(a.Enums) != 1 || len(a.Views) != 1 || len(a.Functions) != 1 || len(a.Indexes) != 2 {
			t.Errorf("snapshot = %+v", a)
		}
	})
}
