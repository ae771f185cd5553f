package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// Two checks of one repository at once, sharing one template cache that
// neither has filled yet: both initdb and save the same template at the
// same moment. Both must succeed with the same report, and the cache must
// hold one whole template and no half-written copy.
func TestConcurrentChecks(t *testing.T) {
	pgtest.Binaries(t)
	g := testgit.New(t)
	g.Write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int, name text);\nCREATE INDEX t_name ON t (name);\n")
	base := g.Commit("base")
	g.Write("db/migrations/002_u.up.sql", "ALTER TABLE t ADD COLUMN note text;\n")
	head := g.Commit("head")
	cache, tmp := t.TempDir(), privateTMP(t)
	args := []string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--quiet"}
	var runs [2]*childRun
	for i := range runs {
		runs[i] = startChild(t, args, "TMPDIR="+tmp, "XDG_CACHE_HOME="+cache)
	}
	var codes [2]int
	var outs, errs [2]string
	for i, c := range runs {
		codes[i], errs[i] = c.wait(t)
		outs[i] = c.stdout.String()
	}
	for i := range 2 {
		if codes[i] >= ExitFailed {
			t.Errorf("run %d: exit %d\n%s", i, codes[i], errs[i])
		}
	}
	if codes[0] != codes[1] || outs[0] != outs[1] {
		t.Errorf("the runs disagree: exit %d and %d\n%s\n---\n%s", codes[0], codes[1], outs[0], outs[1])
	}
	ents, err := os.ReadDir(filepath.Join(cache, "breakwater", "pg-templates"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("half-written template left: %s", e.Name())
		} else if _, err := os.Stat(filepath.Join(cache, "breakwater", "pg-templates", e.Name(), "PG_VERSION")); err != nil {
			t.Errorf("template %s is incomplete: %v", e.Name(), err)
		}
	}
	if len(names) != 1 {
		t.Errorf("templates %v, want one", names)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "breakwater-pg-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
