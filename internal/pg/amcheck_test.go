package pg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// healthySchema has every kind of B-tree amcheck should visit (text,
// unique, expression, partial, a quoted schema) and things it must skip:
// a hash index, a temp table's index (session-local, so it would vanish
// mid-run for another session) and an invalid index.
const healthySchema = `
CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, email text, born date);
CREATE UNIQUE INDEX people_email_key ON people (email);
CREATE INDEX people_name_idx ON people (name);
CREATE INDEX people_lower_name_idx ON people (lower(name));
CREATE INDEX people_recent_idx ON people (born) WHERE born > '2000-01-01';
CREATE INDEX people_name_hash ON people USING hash (name);
INSERT INTO people (name, email, born)
  SELECT 'Person ' || i, 'p' || i || '@example.com', date '1950-01-01' + i
  FROM generate_series(1, 2000) i;
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."T" (k text PRIMARY KEY);
INSERT INTO "Odd Schema"."T" SELECT md5(i::text) FROM generate_series(1, 500) i;
CREATE MATERIALIZED VIEW people_names AS SELECT DISTINCT name FROM people;
CREATE INDEX people_names_idx ON people_names (name);
`

// healthyIndexes are the B-trees in healthySchema: people_pkey, the four
// above, "Odd Schema"."T_pkey" and the view's.
const (
	healthyIndexes = 7
	healthyTables  = 3 // people, "Odd Schema"."T", people_names
)

// TestAmcheckAllMajors checks a healthy database on every install, and
// runs the collation queries there too, since their catalog columns
// differ between 13, 15 and 17.
func TestAmcheckAllMajors(t *testing.T) {
	eachMajor(t, "amcheck", func(t *testing.T, ctx context.Context, cl *Cluster, db *DB) {
		if err := db.Exec(ctx, healthySchema+`
			CREATE TEMP TABLE scratch (s text PRIMARY KEY);
			CREATE TABLE broken (v int);
			INSERT INTO broken VALUES (1), (1);`); err != nil {
			t.Fatal(err)
		}
		// A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid
		// index behind; checking it would only report its invalidity.
		if err := db.Exec(ctx, "CREATE UNIQUE INDEX CONCURRENTLY broken_v ON broken (v)"); err == nil {
			t.Fatal("unique index on duplicates was built")
		}

		var progress bytes.Buffer
		rep, err := db.Amcheck(ctx, AmcheckOptions{Progress: &progress})
		if errors.Is(err, ErrAmcheckMissing) {
			t.Skipf("PostgreSQL %s has no amcheck: %v", cl.bin.Version, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		wantTables := healthyTables + 1 // broken
		if cl.Major() < 14 {
			wantTables = 0 // no verify_heapam
		}
		if rep.Checked != healthyIndexes || rep.Tables != wantTables || len(rep.Problems) != 0 {
			t.Errorf("report %+v, want %d indexes, %d tables, no problems\n%s", rep, healthyIndexes, wantTables, progress.String())
		}
		if n := strings.Count(progress.String(), "\n"); n != rep.Checked+rep.Tables {
			t.Errorf("%d progress lines for %d checks:\n%s", n, rep.Checked+rep.Tables, progress.String())
		}
		if !strings.Contains(progress.String(), `amcheck: index Odd Schema.T_pkey ok`) {
			t.Errorf("progress:\n%s", progress.String())
		}

		// Parallel and parent checks find the same.
		par, err := db.Amcheck(ctx, AmcheckOptions{Jobs: 3, Parent: true})
		if err != nil {
			t.Fatal(err)
		}
		if par.Checked != rep.Checked || par.Tables != rep.Tables || len(par.Problems) != 0 {
			t.Errorf("Jobs 3, Parent: %+v", par)
		}

		ix, err := db.CollationIndexes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The hash index hashes bytes: no collation can reorder it.
		var got []string
		for _, x := range ix {
			got = append(got, fmt.Sprintf("%s.%s %v %s", x.Schema, x.Index, x.Collations, x.Provider))
		}
		var want []string
		if l := normLocale(cl.Locale()); l != "c" && l != "posix" {
			for _, name := range []string{"Odd Schema.T_pkey", "public.people_email_key", "public.people_lower_name_idx", "public.people_name_idx", "public.people_names_idx"} {
				want = append(want, fmt.Sprintf("%s [default (%s, libc)] libc", name, cl.Locale()))
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("CollationIndexes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		mm, err := db.CollationMismatches(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(mm) != 0 {
			t.Errorf("mismatches on a fresh cluster: %+v", mm)
		}
	})
}

// TestAmcheckTimeout gives each check 1 ms: heapallindexed over 300,000
// rows takes tens of ms, so the big index must come back as a timeout
// while the run goes on to the rest.
func TestAmcheckTimeout(t *testing.T) {
	ctx, db := scenario(t, "amcheck_timeout")
	if err := db.Exec(ctx, `
		CREATE TABLE big (id int8);
		INSERT INTO big SELECT generate_series(1, 300000);
		CREATE INDEX big_id ON big (id);
		CREATE TABLE small (id int PRIMARY KEY);`); err != nil {
		t.Fatal(err)
	}
	rep, err := db.Amcheck(ctx, AmcheckOptions{PerIndexTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 2 {
		t.Errorf("Checked = %d, want 2", rep.Checked)
	}
	var big bool
	for _, p := range rep.Problems {
		if !p.Timeout || p.SQLState != SQLStateQueryCanceled {
			t.Errorf("not a timeout: %+v", p)
		}
		if p.Index == "big_id" && p.Kind == "index" && p.Table == "big" {
			big = true
		}
	}
	if !big {
		t.Errorf("no timeout for big_id: %+v", rep.Problems)
	}
	// The session's own timeout is back for whatever the caller runs next.
	var st string
	if err := db.Pgx().QueryRow(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "1min" {
		t.Errorf("statement_timeout after Amcheck = %q, %v", st, err)
	}
	t.Logf("%+v", rep)
}

func TestAmcheckInTransaction(t *testing.T) {
	ctx, db := scenario(t, "amcheck_tx")
	if err := db.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Amcheck(ctx, AmcheckOptions{}); err == nil || !strings.Contains(err.Error(), "transaction") {
		t.Errorf("err = %v", err)
	}
	db.Exec(context.Background(), "ROLLBACK")
}
