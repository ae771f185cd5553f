package pg

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/localetest"
)

// buildSwappedLocales compiles two locales both named en_US.UTF-8: A is
// glibc's, B is en_US with Danish collation, which sorts upper case
// first and "aa" as "å" after "z". Starting a server under LOCPATH=A and
// restarting it under LOCPATH=B is a glibc upgrade that changed the
// order, as 2.28 did, without needing two glibc builds.
func buildSwappedLocales(t *testing.T) (dirA, dirB string) {
	t.Helper()
	dirs := localetest.EnUS(t, "en_US", "da_DK")
	return dirs[0], dirs[1]
}

// corpus is strings whose en_US and Danish orders differ: case, "aa"
// against "å", æ ø å against ä ö, and punctuation en_US ignores at first.
const corpusSQL = `
INSERT INTO words (w)
SELECT DISTINCT p || s || i
FROM unnest(ARRAY['aa','Aa','AA','å','Å','ab','a-b','A','a','b','B','z','Z','æ','Æ','ø','Ø','ä','ö','ü','y','v','w','th','ð']) p,
     unnest(ARRAY['', '-x', ' x', 'x', 'X', '-', '''']) s,
     generate_series(1, 20) i
ORDER BY 1 DESC`

// TestLocaleChangeCorruptsIndex is the failure Amcheck exists for: an
// index built under one collation order and read under another.
func TestLocaleChangeCorruptsIndex(t *testing.T) {
	bin := needBinaries(t)
	dirA, dirB := buildSwappedLocales(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: bin, Locale: "en_US.UTF-8", NoCache: true,
		Env: []string{"LOCPATH=" + dirA}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	db, err := cl.Scenario(ctx, "locale_swap")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(ctx, `
		CREATE TABLE words (id serial PRIMARY KEY, w text NOT NULL);
		CREATE INDEX words_w_idx ON words (w);
		CREATE UNIQUE INDEX words_w_key ON words (w);
		CREATE INDEX words_w_c_idx ON words (w COLLATE "C");`+corpusSQL); err != nil {
		t.Fatal(err)
	}
	var n int
	var order string
	if err := db.Pgx().QueryRow(ctx, "SELECT count(*), (SELECT string_agg(x, ' ' ORDER BY x) FROM unnest(ARRAY['b','aa','Å','a-b','ab','A']) x) FROM words").Scan(&n, &order); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows; order under LOCPATH A: %s", n, order)

	before, err := db.Amcheck(ctx, AmcheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Problems) != 0 || before.Checked != 4 {
		t.Fatalf("before the swap: %+v", before)
	}
	mm, err := db.CollationMismatches(ctx)
	if err != nil || len(mm) != 0 {
		t.Fatalf("mismatches before the swap: %+v, %v", mm, err)
	}

	ix, err := db.CollationIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"words_w_idx", "words_w_key"}
	if len(ix) != len(want) {
		t.Fatalf("CollationIndexes = %+v, want %v", ix, want)
	}
	for i, x := range ix {
		if x.Schema != "public" || x.Table != "words" || x.Index != want[i] || x.Unique != (want[i] == "words_w_key") ||
			x.Provider != "libc" || len(x.Collations) != 1 || x.Collations[0] != "default (en_US.UTF-8, libc)" ||
			x.SizeBytes <= 0 || !strings.Contains(x.Definition, "(w)") {
			t.Errorf("CollationIndexes[%d] = %+v", i, x)
		}
	}

	db.Conn.Close()
	if err := cl.Restart(ctx, []string{"LOCPATH=" + dirB}); err != nil {
		t.Fatal(err)
	}
	c, err := connect(ctx, cl.DSN(), db.Name, DefaultStatementTimeout)
	if err != nil {
		t.Fatal(err)
	}
	db.Conn = c
	if err := db.Pgx().QueryRow(ctx, "SELECT string_agg(x, ' ' ORDER BY x) FROM unnest(ARRAY['b','aa','Å','a-b','ab','A']) x").Scan(&order); err != nil {
		t.Fatal(err)
	}
	t.Logf("order under LOCPATH B: %s", order)
	if order != "A a-b ab b Å aa" {
		t.Fatalf("LOCPATH B is not Danish order: %q", order)
	}

	after, err := db.Amcheck(ctx, AmcheckOptions{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	invariant := regexp.MustCompile(`item order invariant violated|invariant violated`)
	bad := map[string]IndexProblem{}
	for _, p := range after.Problems {
		t.Logf("problem: %+v", p)
		bad[p.Index] = p
	}
	for _, name := range want {
		p, ok := bad[name]
		if !ok || p.Kind != "index" || p.Timeout || !invariant.MatchString(p.Message) || p.SQLState == "" {
			t.Errorf("%s after the swap: %+v", name, p)
		}
	}
	for name := range bad {
		if name != "words_w_idx" && name != "words_w_key" {
			t.Errorf("unexpected problem on %q: %+v", name, bad[name])
		}
	}

	// glibc reports its release as the version of every locale, and both
	// LOCPATH dirs are one release's, so Postgres sees no mismatch: the
	// blind spot that makes Amcheck necessary.
	mm, err = db.CollationMismatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(mm) != 0 {
		t.Errorf("mismatches after a same-release swap: %+v", mm)
	}

	// A recorded version that is not the library's, as after a real
	// upgrade. CREATE COLLATION takes one for pg_upgrade's sake; the
	// database's can only be forged in the catalog (superuser).
	forge := `CREATE COLLATION "Old Coll" (provider = libc, locale = 'en_US.UTF-8', version = '1.0-old')`
	if cl.Major() >= 15 {
		forge += fmt.Sprintf("; UPDATE pg_database SET datcollversion = '1.0-old' WHERE datname = '%s'", db.Name)
	}
	if err := db.Exec(ctx, forge); err != nil {
		t.Fatal(err)
	}
	mm, err = db.CollationMismatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forged mismatches: %+v", mm)
	wantMM := 1
	if cl.Major() >= 15 {
		wantMM = 2
	}
	if len(mm) != wantMM || mm[0].Object != `collation "public.Old Coll"` || mm[0].Recorded != "1.0-old" ||
		mm[0].Actual == "" || mm[0].Actual == "1.0-old" {
		t.Fatalf("CollationMismatches = %+v", mm)
	}
	if wantMM == 2 && (mm[1].Object != `database "`+db.Name+`"` || mm[1].Recorded != "1.0-old" || mm[1].Actual != mm[0].Actual) {
		t.Errorf("database mismatch = %+v", mm[1])
	}
	script := ReindexScript(ix, mm)
	for _, s := range []string{
		`REINDEX INDEX CONCURRENTLY "public"."words_w_idx";`,
		`ALTER COLLATION "public"."Old Coll" REFRESH VERSION;`,
	} {
		if !strings.Contains(script, s) {
			t.Errorf("script lacks %s:\n%s", s, script)
		}
	}
	t.Logf("whole test %s", time.Since(t0).Round(time.Millisecond))
}

// TestCollationIndexesProviders uses databases whose default is C, a libc
// locale and (PG15+, ICU builds) ICU, since "default" means each of them.
func TestCollationIndexesProviders(t *testing.T) {
	cl := sharedCluster(t)
	ctx := ctxT(t)
	admin, err := Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var icu bool
	if err := admin.Pgx().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i')").Scan(&icu); err != nil {
		t.Fatal(err)
	}
	schema := `
		CREATE TABLE t (id int PRIMARY KEY, a text, b text COLLATE "C", n int);
		CREATE INDEX t_a ON t (a);
		CREATE INDEX t_b ON t (b);
		CREATE INDEX t_posix ON t (a COLLATE "POSIX");
		CREATE INDEX t_n_a ON t (n, a);
		CREATE INDEX t_hash ON t USING hash (a);
		CREATE INDEX t_lower ON t (lower(b));
		CREATE INDEX "My Index" ON t (n) WHERE a COLLATE "C" > 'm';`
	if icu {
		schema += `
		CREATE INDEX t_icu ON t (a COLLATE "und-x-icu");
		CREATE INDEX t_mixed ON t (b COLLATE "und-x-icu", a);
		CREATE INDEX t_expr_icu ON t (n) WHERE b COLLATE "und-x-icu" > 'm';
		CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
		CREATE INDEX t_hash_ci ON t USING hash (a COLLATE ci);`
	}
	type want struct {
		name, coll, provider string
	}
	cases := []struct {
		create string
		want   []want
	}{
		// t_hash hashes bytes under a deterministic collation: never listed.
		// Everything in C: only the explicit ICU collation counts.
		{"LOCALE 'C'", []want{{"t_expr_icu", "und-x-icu (icu)", "icu"}, {"t_hash_ci", "public.ci (icu)", "icu"}, {"t_icu", "und-x-icu (icu)", "icu"}, {"t_mixed", "und-x-icu (icu)", "icu"}}},
		{"LOCALE 'C.UTF-8'", []want{{"t_a", "default (C.UTF-8, libc)", "libc"}, {"t_expr_icu", "und-x-icu (icu)", "icu"}, {"t_hash_ci", "public.ci (icu)", "icu"},
			{"t_icu", "und-x-icu (icu)", "icu"}, {"t_mixed", "default (C.UTF-8, libc), und-x-icu (icu)", "mixed"},
			{"t_n_a", "default (C.UTF-8, libc)", "libc"}}},
	}
	if icu && cl.Major() >= 15 {
		cases = append(cases, struct {
			create string
			want   []want
		}{"LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'", []want{{"t_a", "default (en-US, icu)", "icu"},
			{"t_expr_icu", "und-x-icu (icu)", "icu"}, {"t_hash_ci", "public.ci (icu)", "icu"}, {"t_icu", "und-x-icu (icu)", "icu"},
			{"t_mixed", "default (en-US, icu), und-x-icu (icu)", "icu"}, {"t_n_a", "default (en-US, icu)", "icu"}}})
	}
	for _, tc := range cases {
		t.Run(tc.create, func(t *testing.T) {
			name := "breakwater_colltest_" + randomHex(4)
			if err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 "+tc.create); err != nil {
				t.Fatal(err)
			}
			defer dropDatabase(context.Background(), admin, name, cl.Major())
			c, err := connect(ctx, cl.DSN(), name, DefaultStatementTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Exec(ctx, schema); err != nil {
				t.Fatal(err)
			}
			ix, err := c.CollationIndexes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, x := range ix {
				got = append(got, want{x.Index, strings.Join(x.Collations, ", "), x.Provider})
			}
			wantList := tc.want
			if !icu {
				wantList = nil
				for _, w := range tc.want {
					if !strings.Contains(w.coll, "icu") {
						wantList = append(wantList, w)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantList) {
				t.Errorf("got  %v\nwant %v", got, wantList)
			}
		})
	}
}

func TestReindexScript(t *testing.T) {
	ix := []CollationIndex{
		{Schema: "public", Table: "t", Index: "t_name_idx"},
		{Schema: "Odd Schema", Table: "T", Index: "My Index", Unique: true},
		{Schema: "public", Table: "t", Index: `quo"te`},
	}
	mm := []VersionMismatch{
		{Kind: "collation", Schema: "pg_catalog", Name: "en-x-icu", Object: `collation "en-x-icu"`, Recorded: "153.14", Actual: "153.120"},
		{Kind: "database", Name: "app db", Object: `database "app db"`, Recorded: "2.31", Actual: "2.36"},
	}
	want := `-- These indexes order text by a collation other than C/POSIX. A change of
-- the collation library (glibc or ICU upgrade, new base image) can change
-- that order and leave them corrupt, so rebuild them after one.
-- REINDEX CONCURRENTLY cannot run in a transaction block: do not use psql -1.
-- A unique index may fail to rebuild on duplicates that the old order let
-- in; resolve those rows, drop the leftover invalid *_ccnew index, rerun.
REINDEX INDEX CONCURRENTLY "public"."t_name_idx";
REINDEX INDEX CONCURRENTLY "Odd Schema"."My Index";
REINDEX INDEX CONCURRENTLY "public"."quo""te";
-- Then record the collation versions now in use:
ALTER COLLATION "pg_catalog"."en-x-icu" REFRESH VERSION;
ALTER DATABASE "app db" REFRESH COLLATION VERSION;
`
	if got := ReindexScript(ix, mm); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := ReindexScript(nil, nil); !strings.Contains(got, "no index depends") {
		t.Errorf("empty script:\n%s", got)
	}
}
