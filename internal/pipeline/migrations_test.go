package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// Configured directories are checked in their format; an inline
// suppression in a migration file covers the statement below it.
func TestMigrationDirs(t *testing.T) {
	g := testgit.New(t)
	g.Write(".breakwater.yml", "migrations:\n  - dir: schema\n    format: plain\n")
	g.Write("schema/a.sql", "CREATE TABLE a (id int);\n")
	g.Write("schema/b.sql", "CREATE TABLE b (id int);\n")
	g.Write("other/001_x.up.sql", "CREATE TABLE x (id int);\n")
	base := g.Commit("base")
	g.Write("schema/a.sql", "-- breakwater:ignore migration/history-rewritten never deployed\nCREATE TABLE a (id bigint);\n")
	g.Write("schema/b.sql", "CREATE TABLE b (id bigint);\n")
	g.Write("other/001_x.up.sql", "CREATE TABLE x (id bigint);\n") // not configured: not checked
	head := g.Commit("head")
	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s suppressed=%v", f.File, f.Line, f.Rule, f.Suppressed))
	}
	want := "schema/a.sql:2 migration/history-rewritten suppressed=true\nschema/b.sql:1 migration/history-rewritten suppressed=false"
	if strings.Join(got, "\n") != want {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}

// The config's severity: map raises a rule above its default, here
// migration/no-down for a team that wants every migration reversible.
func TestSeverityOverride(t *testing.T) {
	for _, tt := range []struct{ config, want string }{
		{"", "notice"},
		{"severity:\n  migration/no-down: warning\n", "warning"},
	} {
		g := testgit.New(t)
		g.Write(".breakwater.yml", tt.config)
		g.Write("db/001_a.up.sql", "CREATE TABLE a (id int);\n")
		base := g.Commit("base")
		g.Write("db/002_b.up.sql", "ALTER TABLE a ADD COLUMN b int;\n")
		head := g.Commit("head")
		res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Database: Database{Mode: DBNever}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Report.Findings {
			got = append(got, fmt.Sprintf("%s:%d %s(%s)", f.File, f.Line, f.Rule, f.Severity))
		}
		if want := "db/002_b.up.sql:1 migration/no-down(" + tt.want + ")"; strings.Join(got, "\n") != want {
			t.Errorf("config %q: findings\n%s\nwant\n%s", tt.config, strings.Join(got, "\n"), want)
		}
	}
}
