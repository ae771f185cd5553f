package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
)

// A server out of room (here temp_file_limit, as a full disk without a
// small filesystem to fill) is not a failing migration: Run returns an
// error, so the check reports that it could not run, in both the traced
// and the plain path.
func TestServerTroubleIsNotAFinding(t *testing.T) {
	bin := pgtest.Binaries(t)
	ctx := context.Background()
	cl, err := pg.StartThrowaway(ctx, pg.ThrowawayOptions{Bin: bin, Extra: []string{"temp_file_limit=64kB", "work_mem=64kB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	base := map[string]string{"m/001_t.up.sql": "CREATE TABLE t (id int);\n"}
	head := with(base, "m/002_sort.up.sql", "CREATE TABLE s AS SELECT g FROM generate_series(1, 300000) g ORDER BY g DESC;\n")
	for _, trace := range []bool{true, false} {
		rs, err := Run(ctx, Options{Cluster: cl, NoTrace: !trace, NoRoundTrip: true,
			Dirs: []Dir{{Dir: "m", Base: set(t, migrate.GolangMigrate, base), Head: set(t, migrate.GolangMigrate, head)}}})
		if err == nil {
			t.Fatalf("trace %v: no error; results %+v", trace, rs)
		}
		if !strings.Contains(err.Error(), "temp_file_limit") || !strings.Contains(err.Error(), "m/002_sort.up.sql") {
			t.Errorf("trace %v: error %q, want the server's temp_file_limit message and the file", trace, err)
		}
	}
}
