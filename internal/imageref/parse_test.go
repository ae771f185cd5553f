package imageref

import (
	"errors"
	"strings"
	"testing"
)

const dgst = "sha256:4c497e84fe9c6ef2465b13441582d20c418d6de60313bf70f60c8d41da89fdc9"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
	}{
		{"postgres", Ref{Name: "docker.io/library/postgres", Path: "postgres"}},
		{"postgres:17", Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17"}},
		{"library/postgres:17", Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17"}},
		{"docker.io/library/postgres:17", Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17"}},
		{"index.docker.io/library/postgres:17", Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17"}},
		{"  postgres:17-alpine  ", Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17-alpine"}},
		// Only index.docker.io folds into docker.io; the registry host a Helm
		// chart may spell out stays as written, so the knowledge base lists it.
		{"registry-1.docker.io/bitnami/postgresql:16.1.0-debian-12-r2", Ref{Name: "registry-1.docker.io/bitnami/postgresql", Path: "registry-1.docker.io/bitnami/postgresql", Tag: "16.1.0-debian-12-r2"}},
		{"postgis/postgis:16-3.4", Ref{Name: "docker.io/postgis/postgis", Path: "postgis/postgis", Tag: "16-3.4"}},
		{"ghcr.io/acme/pg:1", Ref{Name: "ghcr.io/acme/pg", Path: "ghcr.io/acme/pg", Tag: "1"}},
		{"localhost:5000/pg", Ref{Name: "localhost:5000/pg", Path: "localhost:5000/pg"}},
		{"registry.example.com:5000/team/pg:17.2", Ref{Name: "registry.example.com:5000/team/pg", Path: "registry.example.com:5000/team/pg", Tag: "17.2"}},
		{"postgres@" + dgst, Ref{Name: "docker.io/library/postgres", Path: "postgres", Digest: dgst}},
		{"postgres:17@" + dgst, Ref{Name: "docker.io/library/postgres", Path: "postgres", Tag: "17", Digest: dgst}},
		{"localhost:5000/pg:17@" + dgst, Ref{Name: "localhost:5000/pg", Path: "localhost:5000/pg", Tag: "17", Digest: dgst}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if got != tt.want {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseString(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io/library/postgres:17": "postgres:17",
		"postgres:17@" + dgst:           "postgres:17@" + dgst,
		"localhost:5000/pg":             "localhost:5000/pg",
	} {
		r, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.String() != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, r.String(), want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, reason string
		unresolved bool
	}{
		{"", "empty", false},
		{"   ", "empty", false},
		{"Postgres:17", "must be lowercase", false},
		{"postgres:17:18", "not of the form", false},
		{"postgres:-17", "not of the form", false},
		{"postgres@sha256:abc", "not of the form", false},
		{"postgres@sha256:" + strings.Repeat("a", 32), "invalid checksum digest length", false},
		{"http://postgres:17", "not of the form", false},
		{strings.Repeat("a", 64), "64-byte hexadecimal", false},
		{"postgres:$PG_MAJOR", "unresolved variable $PG_MAJOR", true},
		{"postgres:${PG_MAJOR}-alpine", "unresolved variable ${PG_MAJOR}", true},
		{"${REGISTRY}/pg:${TAG}", "unresolved variable ${REGISTRY}, ${TAG}", true},
		{"postgres:${PG_MAJOR:-17}", "unresolved variable ${PG_MAJOR:-17}", true},
		{"postgres:17$", `"$" outside a variable`, false},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tt.in)
			continue
		}
		prefix := `invalid image reference "` + tt.in + `": `
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q) error %q, want %q followed by %q", tt.in, err, prefix, tt.reason)
		}
		if errors.Is(err, ErrUnresolved) != tt.unresolved {
			t.Errorf("Parse(%q): errors.Is(err, ErrUnresolved) = %v", tt.in, !tt.unresolved)
		}
	}
}
