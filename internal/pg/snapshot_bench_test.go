package pg

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSnapshot reads the schema of bench/migrations.sh's database:
// 50 tables, each with 4 indexes and a constraint, and 20 functions. The
// rollback round trip takes one snapshot per new migration and one per
// down step, so this is its main cost.
func BenchmarkSnapshot(b *testing.B) {
	bin := needBinaries(b)
	ctx := context.Background()
	cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: bin, CacheDir: testCacheDir})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	db, err := cl.Scenario(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var s strings.Builder
	for k := 1; k <= 50; k++ {
		fmt.Fprintf(&s, `CREATE TABLE t%[1]d (id bigserial PRIMARY KEY, name text NOT NULL, email text, note text,
	created_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL DEFAULT 'active', score integer NOT NULL DEFAULT 0);
CREATE INDEX t%[1]d_name_idx ON t%[1]d (name);
CREATE UNIQUE INDEX t%[1]d_email_key ON t%[1]d (lower(email));
CREATE INDEX t%[1]d_status_name_idx ON t%[1]d (status, name);
ALTER TABLE t%[1]d ADD CONSTRAINT t%[1]d_name_len CHECK (length(name) <= 200);
`, k)
		if k%5 == 0 {
			fmt.Fprintf(&s, "CREATE FUNCTION t%[1]d_label(p_id bigint) RETURNS text LANGUAGE plpgsql STABLE AS $fn$ BEGIN RETURN (SELECT name FROM t%[1]d WHERE id = p_id); END $fn$;\n"+
				"CREATE FUNCTION t%[1]d_count() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM t%[1]d $$;\n", k)
		}
	}
	if err := db.Exec(ctx, s.String()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := db.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
