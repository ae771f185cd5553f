package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSeverityRoundTrip(t *testing.T) {
	for _, s := range []Severity{Notice, Warning, Error} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%v → %s → %v, %v", s, b, back, err)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil {
		t.Error("ParseSeverity(fatal) succeeded")
	}
	if s, err := ParseSeverity(" Warning "); err != nil || s != Warning {
		t.Errorf("ParseSeverity(Warning) = %v, %v", s, err)
	}
	if !(Error > Warning && Warning > Notice && Notice > 0) {
		t.Error("severities are not ordered")
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("image/libc-swap", "db/Dockerfile", "final")
	if a != Fingerprint("image/libc-swap", "db/Dockerfile", "final") {
		t.Error("fingerprint is not deterministic")
	}
	for _, other := range []string{
		Fingerprint("image/collation-change", "db/Dockerfile", "final"),
		Fingerprint("image/libc-swap", "app/Dockerfile", "final"),
		Fingerprint("image/libc-swap", "db/Dockerfile", "stage:db"),
		// The separator keeps "a"+"b/c" and "a/b"+"c" apart.
		Fingerprint("image/libc-swap", "db/Dockerfilefinal", ""),
	} {
		if other == a {
			t.Errorf("fingerprints collide: %s", a)
		}
	}
}

func TestNew(t *testing.T) {
	r := &Rule{ID: "test/new", Title: "T", Severity: Warning, Summary: "s", Incident: "i"}
	f := New(r, "x/Dockerfile", 12, "final", "msg")
	if f.Rule != "test/new" || f.Severity != Warning || f.Title != "T" || f.Line != 12 ||
		!strings.HasSuffix(f.DocsURL, "/docs/rules/test/new.md") || f.Fingerprint != Fingerprint("test/new", "x/Dockerfile", "final") {
		t.Errorf("New = %+v", f)
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{ID: "a/b", Title: "t", Severity: Error, Summary: "s", Incident: "i"}
	if err := Validate([]*Rule{&ok}); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Rule){
		"id":       func(r *Rule) { r.ID = "" },
		"title":    func(r *Rule) { r.Title = "" },
		"severity": func(r *Rule) { r.Severity = 0 },
		"summary":  func(r *Rule) { r.Summary = "" },
		"incident": func(r *Rule) { r.Incident = "" },
	} {
		r := ok
		mut(&r)
		if err := Validate([]*Rule{&r}); err == nil {
			t.Errorf("Validate accepts a rule without %s", name)
		}
	}
}
