package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
	"github.com/breakwater-ci/breakwater/internal/report"
)

var testRule = &finding.Rule{ID: "test/rule", Title: "t", Severity: finding.Warning, Summary: "s", Incident: "i"}

func init() { finding.Register(testRule) }

func TestParse(t *testing.T) {
	cfg, err := Parse(".breakwater.yml", []byte(`
fail-on: warning
build-args:
  PG_MAJOR: "16"
suppress:
  - rule: test/rule
    path: "deploy/**"
    reason: staging only
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		FailOn:    "warning",
		BuildArgs: map[string]string{"PG_MAJOR": "16"},
		Suppress:  []Suppression{{Rule: "test/rule", Path: "deploy/**", Reason: "staging only", Line: 6}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	if got := cfg.Suppressions(); len(got) != 1 || got[0].Reason != "staging only" {
		t.Errorf("Suppressions() = %+v", got)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n"} {
		if _, err := Parse("c.yml", []byte(src)); err != nil {
			t.Errorf("Parse(%q) = %v", src, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		contains  string
	}{
		{"unknown rule", "suppress:\n  - rule: image/nope\n    reason: x\n", 2, `unknown rule "image/nope"`},
		{"no reason", "suppress:\n  - rule: test/rule\n  - rule: test/rule\n    path: x\n", 2, "missing property 'reason'"},
		{"blank reason", "suppress:\n  - rule: test/rule\n    reason: \" \"\n", 2, "no reason"},
		{"second entry", "suppress:\n  - rule: test/rule\n    reason: ok\n  - rule: bad/rule\n    reason: ok\n", 4, `unknown rule "bad/rule"`},
		{"unknown key", "build-args: {}\nsupress: []\n", 2, "supress"},
		{"bad severity", "\nfail-on: fatal\n", 2, `fail-on: "fatal": value must be one of`},
		{"syntax", "suppress:\n  - rule: [\n", 3, ""},
		{"wrong type", "build-args: [a, b]\n", 1, ""},
		// Shape errors come from the schema, on the line of the key.
		{"unknown migration format", "migrations:\n  - dir: db\n    format: rails\n", 3, "migrations[0].format"},
		{"down_command without command", "migrations:\n  - dir: db\n    down_command: bin/down\n", 2, "down_command"},
		{"migration dir outside", "migrations:\n  - dir: ../db\n", 2, "inside the repository"},
		{"seed side", "seed:\n  files: [a.sql]\n  side: left\n", 3, "seed.side"},
		{"config not a list", "fail-on: error\nconfig:\n  schema: a.json\n", 2, "config: got object, want array"},
		{"config entry without schema or files", "config:\n  - {}\n", 2, "config[0]"},
		{"files not a list", "config:\n  - schema: s.json\n    files: config/*.yml\n", 3, `config[0].files: "config/*.yml": got string, want array`},
		{"unknown key in a target", "config:\n  - schema: s.json\n    file: [a.yml]\n", 3, "additional properties 'file' not allowed"},
		{"build-args value a list", "build-args:\n  A: [1]\n", 2, "build-args.A"},
		{"suppress rule malformed", "suppress:\n  - rule: Not A Rule\n    reason: x\n", 2, "suppress[0].rule"},
		{"severity of an unknown rule", "fail-on: error\nseverity:\n  test/nope: warning\n", 3, `severity: unknown rule "test/nope"`},
		{"severity not a level", "severity:\n  test/rule: fatal\n", 2, "severity.test/rule"},
		{"severity not a map", "severity: [test/rule]\n", 1, "severity: got array, want object"},
		{"rehearse runtime of no kind", "rehearse:\n  from: /usr/lib/postgresql/15/bin\n", 2, "rehearse.from"},
		{"rehearse runtime bad option", "rehearse:\n  check: true\n  to: bin:/pg?charset=x\n", 3, `rehearse.to: runtime "bin:/pg?charset=x": unknown option "charset"`},
		{"rehearse image bad reference", "rehearse:\n  to: image:Postgres:15\n", 2, "must be lowercase"},
		{"fail-on unknown", "\nfail-on: fatal\n", 2, "fail-on"},
		{"schema outside the repository", "config:\n  - schema: ../other/s.json\n", 2, "inside the repository"},
		{"files glob outside the repository", "config:\n  - files: [/etc/*.yml]\n", 2, "inside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(".breakwater.yml", []byte(tt.src))
			ce, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if ce.File != ".breakwater.yml" || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.contains) {
				t.Errorf("err = %q (line %d), want line %d containing %q", ce, ce.Line, tt.line, tt.contains)
			}
		})
	}
}

func TestInline(t *testing.T) {
	src := `# breakwater:ignore test/rule pinned by the platform team

FROM postgres:17
FROM golang:1.22 # breakwater:ignore test/rule builder only
# breakwater:ignore test/rule
FROM x
# breakwater:ignore image/unknown-rule because
FROM y
RUN echo breakwater:ignore test/rule not a comment
`
	sups, errs := Inline("db/Dockerfile", []byte(src))
	want := []report.Suppression{
		{Rule: "test/rule", Path: "db/Dockerfile", Line: 3, Reason: "pinned by the platform team"},
		{Rule: "test/rule", Path: "db/Dockerfile", Line: 4, Reason: "builder only"},
	}
	if !reflect.DeepEqual(sups, want) {
		t.Errorf("suppressions:\n got %+v\nwant %+v", sups, want)
	}
	if len(errs) != 2 || errs[0].Line != 5 || !strings.Contains(errs[0].Msg, "no reason") ||
		errs[1].Line != 7 || !strings.Contains(errs[1].Msg, "unknown rule") {
		t.Errorf("errors = %+v", errs)
	}
}

func TestExclude(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("exclude:\n  - testdata/**\n  - \"**/fixtures/*.Dockerfile\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"testdata/cases/a/Dockerfile": true, "svc/fixtures/db.Dockerfile": true,
		"db/Dockerfile": false, "svc/testdata/Dockerfile": false,
	} {
		if got := cfg.Excluded(p); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", p, got, want)
		}
	}
	if _, err := Parse("c.yml", []byte("exclude:\n  - \"[\"\n")); err == nil {
		t.Error("a bad glob was accepted")
	}
}

func TestPostgresSupported(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("postgres:\n  supported: \">=13 <=17\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres.Range.IsZero() || cfg.Postgres.Range.String() != ">=13 <=17" {
		t.Errorf("range = %q", cfg.Postgres.Range)
	}
	_, err = Parse("c.yml", []byte("fail-on: error\npostgres:\n  supported: \"13+\"\n"))
	if ce, ok := err.(*Error); !ok || ce.Line != 3 || !strings.Contains(ce.Msg, "postgres.supported") {
		t.Errorf("bad range: %v", err)
	}
}

func TestImages(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("images:\n  acme/pgsql:\n    dockerfile: docker/pgsql/Dockerfile\n  ghcr.io/acme/legacy:\n    same-as: postgres:12.6-alpine\n"))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"acme/pgsql:95244_2021": "docker/pgsql/Dockerfile", "docker.io/acme/pgsql": "docker/pgsql/Dockerfile", "ghcr.io/acme/legacy:1": "same-as:postgres:12.6-alpine", "acme/other:1": ""} {
		r, err := imageref.Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := cfg.Image(r)
		got := d.Dockerfile
		if d.SameAs != "" {
			got = "same-as:" + d.SameAs
		}
		if got != want || ok != (want != "") {
			t.Errorf("Image(%s) = %q, %v; want %q", ref, got, ok, want)
		}
	}
	for _, bad := range []string{
		"images:\n  acme/x: {}\n",
		"images:\n  acme/x:\n    dockerfile: a\n    same-as: postgres:16\n",
		"images:\n  acme/x:\n    same-as: \"NOT A REF\"\n",
		"images:\n  acme/x:\n    dockerfile: ../outside/Dockerfile\n",
	} {
		if _, err := Parse("c.yml", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		} else if ce, ok := err.(*Error); !ok || ce.Line != 2 {
			t.Errorf("%q: error %v, want one on line 2", bad, err)
		}
	}
}

func TestMigrations(t *testing.T) {
	cfg, err := Parse("c.yml", []byte("migrations:\n  - dir: db/migrations\n    format: goose\n  - command: bin/rails db:migrate\n    down_command: bin/rails db:rollback\n    dir: db/migrate\nseed:\n  files: [db/seed/*.sql]\n  side: base\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []MigrationDir{
		{Dir: "db/migrations", Format: "goose", Line: 2},
		{Dir: "db/migrate", Command: "bin/rails db:migrate", DownCommand: "bin/rails db:rollback", Line: 4},
	}
	if !reflect.DeepEqual(cfg.Migrations, want) {
		t.Errorf("migrations = %+v", cfg.Migrations)
	}
	if !reflect.DeepEqual(cfg.Seed, Seed{Files: []string{"db/seed/*.sql"}, Side: "base"}) {
		t.Errorf("seed = %+v", cfg.Seed)
	}
}
