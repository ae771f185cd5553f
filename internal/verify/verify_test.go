package verify

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
)

var shared struct {
	once sync.Once
	cl   *pg.Cluster
	err  error
}

// cluster is one throwaway server for the package's tests.
func cluster(t *testing.T) *pg.Cluster {
	t.Helper()
	bin := pgtest.Binaries(t)
	shared.once.Do(func() {
		shared.cl, shared.err = pg.StartThrowaway(context.Background(), pg.ThrowawayOptions{Bin: bin})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.cl
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cl != nil {
		shared.cl.Close()
	}
	os.Exit(code)
}

func set(t *testing.T, format migrate.Format, files map[string]string) *migrate.Set {
	t.Helper()
	if files == nil {
		return nil
	}
	var fs []migrate.File
	for p, s := range files {
		fs = append(fs, migrate.File{Path: p, Data: []byte(s)})
	}
	s, err := migrate.Load("m", format, fs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each format runs as its tool runs it, and a failure names the file,
// the line and the server's words.
func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		format     migrate.Format
		base, head map[string]string
		seed       string
		timeout    time.Duration
		// want is "phase file:line SQLSTATE" of the upgrade and the
		// head-only failure, "" for none.
		upgrade, headOnly string
		applied           [3]int // base, seed statements, head
	}{
		{
			name:   "flyway: a syntax error's position maps to its line",
			format: migrate.Flyway,
			base:   map[string]string{"m/V1__t.sql": "CREATE TABLE t (id int);\n"},
			head: map[string]string{"m/V1__t.sql": "CREATE TABLE t (id int);\n",
				"m/V2__bad.sql": "-- adds a column\nALTER TABLE t\n  ADD COLUMN x int,\n  ADD COLUMN y intt;\n",
				"m/R__view.sql": "CREATE VIEW v AS SELECT id FROM t;\n"},
			upgrade: "head m/V2__bad.sql:4 42704", headOnly: "head-only m/V2__bad.sql:4 42704", applied: [3]int{1, 0, 0},
		},
		{
			name:   "dbmate: transaction:false lets CREATE INDEX CONCURRENTLY run",
			format: migrate.Dbmate,
			base:   map[string]string{"m/20240101000000_t.sql": "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n"},
			head: map[string]string{"m/20240101000000_t.sql": "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n",
				"m/20240102000000_i.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- migrate:down\nDROP INDEX t_id;\n"},
			seed:    "INSERT INTO t SELECT generate_series(1, 100);\n",
			applied: [3]int{1, 1, 1},
		},
		{
			name:    "goose: inside a transaction CREATE INDEX CONCURRENTLY fails",
			format:  migrate.Goose,
			head:    map[string]string{"m/001_t.sql": "-- +goose Up\nCREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"},
			upgrade: "head m/001_t.sql:3 25001", headOnly: "head-only m/001_t.sql:3 25001",
		},
		{
			name:    "plain: the seed is what makes the upgrade fail",
			format:  migrate.Plain,
			base:    map[string]string{"m/1_t.sql": "CREATE TABLE t (id int, v text);\n"},
			head:    map[string]string{"m/1_t.sql": "CREATE TABLE t (id int, v text);\n", "m/2_unique.sql": "CREATE UNIQUE INDEX t_v ON t (v);\n"},
			seed:    "INSERT INTO t VALUES (1, 'a'), (2, 'a');\n",
			upgrade: "head m/2_unique.sql:1 23505", applied: [3]int{1, 1, 0},
		},
		{
			name:    "statement_timeout ends a runaway statement",
			format:  migrate.GolangMigrate,
			head:    map[string]string{"m/1_slow.up.sql": "SELECT 1;\nSELECT pg_sleep(30);\n"},
			timeout: 300 * time.Millisecond,
			upgrade: "head m/1_slow.up.sql:2 57014", headOnly: "head-only m/1_slow.up.sql:2 57014",
		},
		{
			name:    "a base side that does not apply stops in the base phase",
			format:  migrate.GolangMigrate,
			base:    map[string]string{"m/1_t.up.sql": "CREATE TABLE t (id int REFERENCES nowhere);\n"},
			head:    map[string]string{"m/1_t.up.sql": "CREATE TABLE t (id int REFERENCES nowhere);\n", "m/2_x.up.sql": "SELECT 1;\n"},
			upgrade: "base m/1_t.up.sql:1 42P01", headOnly: "head-only m/1_t.up.sql:1 42P01",
		},
	}
	cl := cluster(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl.SetStatementTimeout(tt.timeout)
			if tt.timeout == 0 {
				cl.SetStatementTimeout(pg.DefaultStatementTimeout)
			}
			var seed []migrate.File
			if tt.seed != "" {
				seed = []migrate.File{{Path: "seed.sql", Data: []byte(tt.seed)}}
			}
			rs, err := Run(context.Background(), Options{Cluster: cl, Seed: seed,
				Dirs: []Dir{{Dir: "m", Base: set(t, tt.format, tt.base), Head: set(t, tt.format, tt.head)}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("%d results", len(rs))
			}
			r := rs[0]
			if got := failure(r.Upgrade); got != tt.upgrade {
				t.Errorf("upgrade: %s, want %q", got, tt.upgrade)
			}
			if got := failure(r.HeadOnly); got != tt.headOnly {
				t.Errorf("head-only: %s, want %q", got, tt.headOnly)
			}
			if got := [3]int{r.Base, r.Seed, r.Head}; got != tt.applied {
				t.Errorf("applied %v, want %v", got, tt.applied)
			}
			if r.Major != cl.Major() {
				t.Errorf("major %d", r.Major)
			}
		})
	}
}

func failure(f *Failure) string {
	if f == nil {
		return ""
	}
	state := ""
	if f.Err != nil {
		state = f.Err.SQLState
	}
	return fmt.Sprintf("%s %s:%d %s", f.Phase, f.File, f.Line, state)
}
