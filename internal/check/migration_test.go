package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/migrate"
)

func load(t *testing.T, format migrate.Format, files map[string]string) *migrate.Set {
	t.Helper()
	var fs []migrate.File
	for p, s := range files {
		fs = append(fs, migrate.File{Path: p, Data: []byte(s)})
	}
	set, err := migrate.Load("m", format, fs)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestMigrationHistory(t *testing.T) {
	base := map[string]string{
		"m/010_a.up.sql": "CREATE TABLE a (id int);\n",
		"m/020_b.up.sql": "-- b\nCREATE TABLE b (id int);\n",
		"m/030_c.up.sql": "CREATE TABLE c (id int);\n",
		"m/040_d.up.sql": "CREATE TABLE d (id int);\n",
	}
	tests := []struct {
		name string
		head map[string]string
		want []string
	}{
		{"unchanged, a comment edited, and a new one at the end", map[string]string{
			"m/010_a.up.sql": "CREATE TABLE a (id int);\n",
			"m/020_b.up.sql": "-- b, the second table\n\nCREATE TABLE b (id int);\n",
			"m/030_c.up.sql": "CREATE TABLE c (id int);\n",
			"m/040_d.up.sql": "CREATE TABLE d (id int);\n",
			"m/050_e.up.sql": "CREATE TABLE e (id int);\n",
		}, nil},
		{"modified, renumbered, deleted and slipped in", map[string]string{
			"m/010_a.up.sql":   "CREATE TABLE a (id bigint);\n",
			"m/020_b.up.sql":   "-- b\nCREATE TABLE b (id int);\n",
			"m/025_x.up.sql":   "CREATE TABLE x (id int);\n",
			"m/030_c.up.sql":   "CREATE TABLE c (id int);\n",
			"m/070_d.up.sql":   "CREATE TABLE d (id int);\n",
			"m/080_new.up.sql": "SELECT 1;\n",
		}, []string{
			"migration/history-rewritten m/010_a.up.sql:1: Migration m/010_a.up.sql (version 010) is released on the base side and changed at head. Databases that already ran it will not run it again, so the change never reaches them, and fresh databases get a schema production does not have.",
			"migration/history-rewritten m/070_d.up.sql:1: Migration d is renumbered: version 040 → 070. Databases that ran it as 040 will run it again as 070.",
			"migration/out-of-order m/025_x.up.sql:1: New migration m/025_x.up.sql (version 025) sorts before m/030_c.up.sql (version 030), the newest migration already released. golang-migrate skips a version below the newest applied one, dbmate applies it after the newer ones (and refuses with --strict), Flyway refuses to migrate (unless outOfOrder), and goose refuses unless run with -allow-missing.",
		}},
		{"deleted", map[string]string{
			"m/010_a.up.sql": "CREATE TABLE a (id int);\n",
			"m/020_b.up.sql": "-- b\nCREATE TABLE b (id int);\n",
			"m/030_c.up.sql": "CREATE TABLE c (id int);\n",
		}, []string{
			"migration/history-rewritten m/040_d.up.sql:0: Migration m/040_d.up.sql (version 040) is released on the base side and deleted at head. Databases that ran it keep what it did; fresh databases no longer get it.",
		}},
	}
	b := load(t, migrate.GolangMigrate, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range MigrationHistory(b, load(t, migrate.GolangMigrate, tt.head)) {
				if f.Remediation == "" {
					t.Errorf("%s has no remediation", f.Rule)
				}
				got = append(got, fmt.Sprintf("%s %s:%d: %s", f.Rule, f.File, f.Line, f.Message))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if fs := MigrationHistory(nil, b); fs != nil {
		t.Errorf("a new directory has findings: %+v", fs)
	}
}
