package imageref

import (
	"reflect"
	"testing"
)

func identify(t *testing.T, kb *KB, s string) Identity {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return kb.Identify(r)
}

func TestCollationChanges(t *testing.T) {
	tests := []struct {
		from, to string
		want     []CollationChange
	}{
		// Debian to Alpine: the incident. ICU is unknown on the floating side.
		{"postgres:17-bookworm", "postgres:17-alpine", []CollationChange{{Kind: "libc-family", From: "glibc", To: "musl"}}},
		{"postgres:17-alpine", "postgres:17-bookworm", []CollationChange{{Kind: "libc-family", From: "musl", To: "glibc"}}},
		// Both sides known: the libc family and the ICU major both change.
		{"postgres:16-bookworm", "postgres:16-alpine3.20", []CollationChange{
			{Kind: "libc-family", From: "glibc", To: "musl"},
			{Kind: "icu", From: "72", To: "74"},
		}},
		// Crossing glibc 2.28, in either direction.
		{"postgres:11", "postgres:11-bookworm", []CollationChange{
			{Kind: "glibc", From: "2.24", To: "2.36", Boundary: "glibc 2.28"},
			{Kind: "icu", From: "57", To: "72"},
		}},
		{"debian:buster", "debian:stretch", []CollationChange{
			{Kind: "glibc", From: "2.28", To: "2.24", Boundary: "glibc 2.28"},
			{Kind: "icu", From: "63", To: "57"},
		}},
		{"redhat/ubi7", "redhat/ubi8", []CollationChange{{Kind: "glibc", From: "2.17", To: "2.28", Boundary: "glibc 2.28"}}},
		// bookworm to trixie: glibc moves without crossing a known boundary,
		// ICU 72 to 76 can still reorder ICU collations.
		{"postgres:17-bookworm", "postgres:17-trixie", []CollationChange{
			{Kind: "glibc", From: "2.36", To: "2.41"},
			{Kind: "icu", From: "72", To: "76"},
		}},
		// The floating tag that moved under everyone's feet.
		{"postgres:17.4", "postgres:17", []CollationChange{
			{Kind: "glibc", From: "2.36", To: "2.41"},
			{Kind: "icu", From: "72", To: "76"},
		}},
		{"ubuntu:22.04", "debian:bookworm", []CollationChange{
			{Kind: "glibc", From: "2.35", To: "2.36"},
			{Kind: "icu", From: "70", To: "72"},
		}},
		// Alpine to Alpine: musl collates by code point everywhere; only ICU.
		{"alpine:3.18", "alpine:3.19", []CollationChange{{Kind: "icu", From: "73", To: "74"}}},
		{"alpine:3.19", "alpine:3.21", nil},
		// Nothing changes, or nothing is known.
		{"postgres:17-bookworm", "postgres:17.2-bookworm", nil},
		{"postgres:17-bookworm", "debian:12", nil},
		{"postgres:17-bookworm", "acme/db:1", nil},
		{"postgres@" + dgst, "postgres:17-alpine", nil},
		{"golang:1.22", "golang:1.22-bookworm", nil},
		{"golang:1.22", "golang:1.22-alpine", []CollationChange{{Kind: "libc-family", From: "glibc", To: "musl"}}},
		// An image without a C library sorts no text.
		{"gcr.io/distroless/base-debian12", "gcr.io/distroless/static-debian12", nil},
		{"gcr.io/distroless/static-debian11", "alpine:3.20", nil},
	}
	kb := Default()
	for _, tt := range tests {
		from, to := identify(t, kb, tt.from), identify(t, kb, tt.to)
		got := kb.CollationChanges(from, to)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CollationChanges(%s → %s)\n got %+v\nwant %+v", tt.from, tt.to, got, tt.want)
		}
		if pkg := CollationChanges(from, to); !reflect.DeepEqual(pkg, got) {
			t.Errorf("package CollationChanges(%s → %s) = %+v, KB method %+v", tt.from, tt.to, pkg, got)
		}
	}
}

// The boundaries are data: a knowledge base that lists others reports them.
func TestCollationBoundariesComeFromData(t *testing.T) {
	kb, err := Load([]byte(minimalKB))
	if err != nil {
		t.Fatal(err)
	}
	from := Identity{Libc: Libc{Family: "glibc", Version: "2.30"}}
	to := Identity{Libc: Libc{Family: "glibc", Version: "2.40"}}
	want := []CollationChange{{Kind: "glibc", From: "2.30", To: "2.40", Boundary: "glibc 2.31, glibc 2.35"}}
	if got := kb.CollationChanges(from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// every_major is false there: an ICU change is not reported.
	from.ICU, to.ICU = "72", "76"
	if got := kb.CollationChanges(from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("with ICU: got %+v, want %+v", got, want)
	}
}
