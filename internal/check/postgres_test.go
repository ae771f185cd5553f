package check

import (
	"strconv"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

func major(t *testing.T, s string) imageref.PGMajor {
	t.Helper()
	m, err := imageref.ParsePGMajor(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ref(t *testing.T, file string, line int, v string) PGRef {
	return PGRef{File: file, Line: line, Key: file, Label: "x", Text: "postgres:" + v, Major: major(t, v)}
}

func TestSkew(t *testing.T) {
	touchedCompose := func(f string) bool { return f == "compose.yml" }
	tests := []struct {
		name       string
		base, head []PGRef
		want       string // "severity@file:line" or ""
	}{
		{"one major", []PGRef{ref(t, "a", 1, "16")}, []PGRef{ref(t, "a", 1, "16"), ref(t, "compose.yml", 2, "16")}, ""},
		{"introduced", []PGRef{ref(t, "a", 1, "16")}, []PGRef{ref(t, "a", 1, "16"), ref(t, "compose.yml", 2, "15")}, "error@compose.yml:2"},
		{"widened", []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15"), ref(t, "compose.yml", 2, "14")}, "error@compose.yml:2"},
		{"already there", []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, "warning@a:1"},
		{"narrowed but still skewed", []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15"), ref(t, "c", 1, "14")}, []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, "warning@a:1"},
		{"9.6 and 9.4 are different majors", nil, []PGRef{ref(t, "a", 1, "9.6"), ref(t, "compose.yml", 1, "9.4")}, "error@compose.yml:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Skew(tt.base, tt.head, touchedCompose)
			got := ""
			if len(fs) == 1 {
				got = fs[0].Severity.String() + "@" + fs[0].File + ":" + itoa(fs[0].Line)
			}
			if len(fs) > 1 || got != tt.want {
				t.Fatalf("got %q (%d findings), want %q", got, len(fs), tt.want)
			}
			if got != "" {
				for _, r := range tt.head {
					if !strings.Contains(fs[0].Evidence, r.File+":"+itoa(r.Line)) {
						t.Errorf("evidence does not list %s:%d:\n%s", r.File, r.Line, fs[0].Evidence)
					}
				}
			}
		})
	}
	// The fingerprint follows the set of majors, not where it is shown.
	a := Skew(nil, []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, func(string) bool { return false })
	b := Skew(nil, []PGRef{ref(t, "a", 1, "16"), ref(t, "b", 1, "15")}, func(f string) bool { return f == "b" })
	if a[0].Fingerprint != b[0].Fingerprint || a[0].File == b[0].File {
		t.Errorf("fingerprints %s/%s at %s/%s", a[0].Fingerprint, b[0].Fingerprint, a[0].File, b[0].File)
	}
}

func TestUnsupported(t *testing.T) {
	r, err := imageref.ParseMajorRange(">=13 <=17")
	if err != nil {
		t.Fatal(err)
	}
	head := []PGRef{ref(t, "a", 1, "12"), ref(t, "b", 2, "16"), ref(t, "c", 3, "18")}
	fs := Unsupported(head, r)
	if len(fs) != 2 || fs[0].File != "a" || fs[1].File != "c" || fs[0].Rule != UnsupportedVersion.ID {
		t.Fatalf("findings = %+v", fs)
	}
	if !strings.Contains(fs[0].Message, ">=13 <=17") {
		t.Errorf("message does not name the range: %s", fs[0].Message)
	}
	if got := Unsupported(head, imageref.MajorRange{}); got != nil {
		t.Errorf("no range declared, got %+v", got)
	}
}

func TestEngines(t *testing.T) {
	ev := func(v string, m string, unresolved string) *facts.EngineVersion {
		e := &facts.EngineVersion{File: "rds.tf", Line: 4, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: v, Unresolved: unresolved}
		if m != "" {
			e.Major = major(t, m)
		}
		return e
	}
	tests := []struct {
		name string
		p    EnginePair
		want string
	}{
		{"upgrade", EnginePair{ev("14.9", "14", ""), ev("15.4", "15", "")}, "postgres/major-upgrade"},
		{"downgrade", EnginePair{ev("15.4", "15", ""), ev("14.9", "14", "")}, "postgres/downgrade"},
		{"minor", EnginePair{ev("14.9", "14", ""), ev("14.10", "14", "")}, ""},
		{"new", EnginePair{nil, ev("16", "16", "")}, ""},
		{"unknown", EnginePair{ev("14.9", "14", ""), ev("var.v", "", "var.v has no default")}, "postgres/unknown-version"},
		{"unknown and unchanged", EnginePair{ev("var.v", "", "var.v has no default"), ev("var.v", "", "var.v has no default")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Engines([]EnginePair{tt.p})
			got := ""
			if len(fs) == 1 {
				got = fs[0].Rule
			}
			if len(fs) > 1 || got != tt.want {
				t.Fatalf("got %v, want %q", fs, tt.want)
			}
		})
	}
}

func TestWorkloads(t *testing.T) {
	one, three := 1, 3
	pg := facts.Container{Name: "postgres", Image: "postgres:16-bookworm", Database: true, DataMounts: []string{"/var/lib/postgresql/data"}}
	noVolume := pg
	noVolume.DataMounts = nil
	app := facts.Container{Name: "app", Image: "acme/app:1", DataMounts: []string{"/data"}}
	tests := []struct {
		name string
		w    facts.Workload
		want int
	}{
		{"default strategy with data volume", facts.Workload{Kind: "Deployment", Name: "db", Containers: []facts.Container{pg}}, 1},
		{"explicit RollingUpdate", facts.Workload{Kind: "Deployment", Name: "db", Strategy: "RollingUpdate", Replicas: &one, Containers: []facts.Container{pg}}, 1},
		{"Recreate", facts.Workload{Kind: "Deployment", Name: "db", Strategy: "Recreate", Containers: []facts.Container{pg}}, 0},
		{"Recreate with replicas", facts.Workload{Kind: "Deployment", Name: "db", Strategy: "Recreate", Replicas: &three, Containers: []facts.Container{pg}}, 1},
		{"rolling without a volume", facts.Workload{Kind: "Deployment", Name: "db", Containers: []facts.Container{noVolume}}, 0},
		{"StatefulSet", facts.Workload{Kind: "StatefulSet", Name: "db", Replicas: &three, Containers: []facts.Container{pg}}, 0},
		{"not a database", facts.Workload{Kind: "Deployment", Name: "app", Replicas: &three, Containers: []facts.Container{app}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			w.File, w.Line = "k8s/db.yaml", 2
			fs := Workloads([]*facts.Workload{&w})
			if len(fs) != tt.want {
				t.Fatalf("got %d findings, want %d: %+v", len(fs), tt.want, fs)
			}
			if tt.want == 1 && (fs[0].Rule != MultiplePrimaries.ID || !strings.Contains(fs[0].Remediation, "Recreate")) {
				t.Errorf("finding = %+v", fs[0])
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
