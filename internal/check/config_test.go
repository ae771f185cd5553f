package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/configdiff"
)

// The config-file findings say plainly what moved, what was renamed and
// what is gone, with the head line each sits on.
func TestConfigFile(t *testing.T) {
	tests := []struct {
		name, base, head string
		want             []string
	}{
		{
			name: "regrouped per environment, one value changed on the way",
			base: "host: db\nport: 5432\npool:\n  size: 10\nlog_level: info\n",
			head: "production:\n  host: db\n  port: 6432\n  pool:\n    size: 10\n  log_level: info\n" +
				"development:\n  host: db\n  port: 5432\n  pool:\n    size: 10\n  log_level: info\n",
			want: []string{"config/restructured error @2: 4 keys moved under `production`, `development`: `host`, `port`, `pool.size`, `log_level`. Code that reads the new layout cannot read a deployed config in the old one. Values also changed: `production.port` 5432 → 6432."},
		},
		{
			name: "one key moved",
			base: "a: 1\nb: 2\n",
			head: "b: 2\nnested:\n  a: 1\n",
			want: []string{"config/restructured error @3: 1 key moved under `nested`: `a`. Code that reads the new layout cannot read a deployed config in the old one."},
		},
		{
			name: "removed, renamed and retyped",
			base: "db:\n  max_conns: 10\n  timeout: 3\n  port: 5432\nitems:\n  - name: a\n    size: 1\n",
			head: "db:\n  max_connections: 10\n  port: \"5432\"\nitems:\n  - name: a\n",
			want: []string{
				"config/key-removed warning @1: Key `db.timeout` (was `3`) is gone. Code that still reads it gets nothing, and deployed configs that set it are ignored.",
				"config/key-renamed warning @2: Key `db.max_conns` is renamed to `max_connections` (same value `10`). Deployed configs still use the old name.",
				"config/type-changed error @3: `db.port` changes type: int → string. Code written for the new type cannot read the old value.",
				"config/key-removed warning @5: Key `items[0].size` (was `1`) is gone. Code that still reads it gets nothing, and deployed configs that set it are ignored.",
			},
		},
		{
			name: "no change",
			base: "a: 1\n", head: "# a comment\na: 1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := configdiff.Flatten("c.yml", []byte(tt.base))
			if err != nil {
				t.Fatal(err)
			}
			head, err := configdiff.Flatten("c.yml", []byte(tt.head))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range ConfigFile("c.yml", configdiff.Diff(base, head)) {
				if f.Remediation != configRemediation || f.File != "c.yml" || f.Fingerprint == "" {
					t.Errorf("finding %+v lacks file, fingerprint or remediation", f)
				}
				got = append(got, fmt.Sprintf("%s %s @%d: %s", f.Rule, f.Severity, f.Line, f.Message))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A move's fingerprint does not depend on the order or number of its
// keys, only on where they went, so an edit to the moved block keeps it.
func TestRestructuredFingerprint(t *testing.T) {
	fp := func(base, head string) string {
		b, _ := configdiff.Flatten("c.yml", []byte(base))
		h, _ := configdiff.Flatten("c.yml", []byte(head))
		fs := ConfigFile("c.yml", configdiff.Diff(b, h))
		if len(fs) != 1 {
			t.Fatalf("findings %+v", fs)
		}
		return fs[0].Fingerprint
	}
	a := fp("x: 1\ny: 2\n", "prod:\n  x: 1\n  y: 2\n")
	b := fp("x: 1\ny: 2\nz: 3\n", "\n\nprod:\n  z: 3\n  x: 1\n  y: 2\n")
	if a != b {
		t.Errorf("fingerprints differ: %s, %s", a, b)
	}
}
