package imageref

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseIdentify checks that Parse never panics and fails with its own
// message; that a reference it accepts comes back the same from its String
// and fully qualified forms; and that Identify is a function of the parsed
// reference: the same on every call, and the same for the re-parsed form.
func FuzzParseIdentify(f *testing.F) {
	for _, s := range []string{
		"postgres", "postgres:17", "library/postgres:17", "docker.io/library/postgres:17",
		"index.docker.io/library/postgres:9.6.24-alpine3.19", "  postgres:17-alpine  ",
		"registry-1.docker.io/bitnami/postgresql:16.1.0-debian-12-r2", "postgis/postgis:16-3.4",
		"timescale/timescaledb-ha:pg16-ts2.14", "ghcr.io/acme/pg:1", "localhost:5000/pg",
		"registry.example.com:5000/team/pg:17.2", "postgres@" + dgst, "postgres:17@" + dgst,
		"postgres:latest", "postgres:alpine", "postgres:bookworm", "postgres:18beta3", "postgres:16rc1",
		"acme/postgres-12.6-alpine", "ghcr.io/acme/db-pg15-bookworm:1.0", "gcr.io/distroless/static-debian12",
		"debian:bookworm-slim", "ubuntu:22.04", "alpine:3.20", "amazonlinux:2023", "redhat/ubi9-minimal",
		"Postgres:17", "postgres:17:18", "postgres:${PG_MAJOR:-17}", "postgres:17$", "http://postgres:17",
		strings.Repeat("a", 64),
	} {
		f.Add(s)
	}
	kb := Default()
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if want := "invalid image reference " + strconv.Quote(s) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Parse(%q) error %q, want the prefix %q", s, err, want)
			}
			return
		}
		if r.Raw != s || r.Name == "" || r.Path == "" {
			t.Fatalf("Parse(%q) = %+v", s, r)
		}
		id := kb.Identify(r)
		if again := kb.Identify(r); !reflect.DeepEqual(id, again) {
			t.Fatalf("Identify(%q) differs between calls:\n%+v\n%+v", s, id, again)
		}
		if id.Ref != r {
			t.Fatalf("Identify(%q).Ref = %+v, want %+v", s, id.Ref, r)
		}
		if id.Known && (id.OS == "" || id.Libc.Family == "") {
			t.Fatalf("Identify(%q) is Known without OS or libc: %+v", s, id)
		}
		if cs := kb.CollationChanges(id, id); len(cs) != 0 {
			t.Fatalf("CollationChanges(%q, itself) = %+v", s, cs)
		}
		full := r.Name
		if r.Tag != "" {
			full += ":" + r.Tag
		}
		if r.Digest != "" {
			full += "@" + r.Digest
		}
		for _, form := range []string{r.String(), full} {
			r2, err := Parse(form)
			if err != nil {
				t.Fatalf("Parse(%q) = %+v, but Parse(%q): %v", s, r, form, err)
			}
			r2.Raw = r.Raw
			if r2 != r {
				t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v", s, r, form, r2)
			}
			id2 := kb.Identify(r2)
			if !reflect.DeepEqual(id, id2) {
				t.Fatalf("Identify(%q) = %+v, but Identify(%q) = %+v", s, id, form, id2)
			}
		}
	})
}

// FuzzPGMajor checks that ParsePGMajor never panics, that what it accepts
// prints as a major that reads back the same, and that a range
// ParseMajorRange accepts reads back the same from its String.
func FuzzPGMajor(f *testing.F) {
	for _, s := range []string{"9.6", "17", "9.6.24", "17.2", "18beta3", "16rc1", "10.0", "9", "9.100", "0.5",
		"1.2.3.4", "10.1.2", "", "b", "17beta", "99999999999999999999", ">=13 <=17", ">9.6", "=16", "<10 >9.5", ">= 13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParsePGMajor(s); err == nil {
			if m <= 0 {
				t.Fatalf("ParsePGMajor(%q) = %d without an error", s, m)
			}
			if back, err := ParsePGMajor(m.String()); err != nil || back != m {
				t.Fatalf("ParsePGMajor(%q) = %d (%s), which reads back as %d, %v", s, m, m, back, err)
			}
		}
		r, err := ParseMajorRange(s)
		if err != nil {
			return
		}
		if r.IsZero() || r.String() != strings.Join(strings.Fields(s), " ") {
			t.Fatalf("ParseMajorRange(%q) = %+v", s, r)
		}
		if again, err := ParseMajorRange(r.String()); err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("ParseMajorRange(%q) = %+v, but its String reads as %+v, %v", s, r, again, err)
		}
	})
}

// TestPGMajorOverflow pins the fix for what FuzzPGMajor found: a huge major
// wrapped around to a negative PGMajor that every comparison got wrong.
func TestPGMajorOverflow(t *testing.T) {
	for _, s := range []string{"92270000000000000", "92233720368547758.1", "10000", "10000.1"} {
		if m, err := ParsePGMajor(s); err == nil {
			t.Errorf("ParsePGMajor(%q) = %d, want an error", s, m)
		}
	}
	if m, err := ParsePGMajor("9999.1"); err != nil || m != 999900 {
		t.Errorf("ParsePGMajor(9999.1) = %d, %v; want 999900", m, err)
	}
}
