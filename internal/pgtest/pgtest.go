// Package pgtest gives tests the Postgres binaries of the machine.
package pgtest

import (
	"os"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/pg"
)

// Binaries finds a Postgres server's binaries. Without them the test is
// skipped, except in CI, which installs them (.ci/run): there a missing
// server fails, so the database tests cannot pass by not running.
func Binaries(t testing.TB) pg.Binaries {
	t.Helper()
	b, err := pg.FindBinaries("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL binaries: %v", err)
		}
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	return b
}
