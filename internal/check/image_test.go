package check

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// use builds an image use the way the pipeline does.
func use(t *testing.T, image string, line int, runsPG bool) *facts.ImageUse {
	t.Helper()
	if image == "" {
		return nil
	}
	u := &facts.ImageUse{File: "db/Dockerfile", Line: line, Key: "final", Label: "the final stage", Raw: image, Image: image, RunsPostgres: runsPG}
	ref, err := imageref.Parse(image)
	if err != nil {
		t.Fatalf("%s: %v", image, err)
	}
	u.Identity = imageref.Default().Identify(ref)
	return u
}

func summarize(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Rule+"="+f.Severity.String())
	}
	sort.Strings(out)
	return out
}

func TestImages(t *testing.T) {
	tests := []struct {
		name       string
		base, head string
		baseRunsPG bool
		headRunsPG bool
		want       []string
	}{
		{
			name: "Debian to Alpine on postgres",
			base: "postgres:11-stretch", head: "postgres:11-alpine3.19",
			want: []string{"image/collation-change=error", "image/libc-swap=error"},
		},
		{
			name: "Alpine to Debian is a swap too",
			base: "postgres:16-alpine3.20", head: "postgres:16-bookworm",
			want: []string{"image/collation-change=error", "image/libc-swap=error"},
		},
		{
			name: "crossing glibc 2.28",
			base: "postgres:11-stretch", head: "postgres:11-bookworm",
			want: []string{"image/collation-change=error"},
		},
		{
			name: "glibc and ICU change without a known boundary",
			base: "postgres:17-bookworm", head: "postgres:17-trixie",
			want: []string{"image/collation-change=warning"},
		},
		{
			name: "minor bump on the same OS",
			base: "postgres:16.2-bookworm", head: "postgres:16.4-bookworm",
			want: []string{},
		},
		{
			name: "major upgrade",
			base: "postgres:11-bullseye", head: "postgres:12-bullseye",
			want: []string{"postgres/major-upgrade=error"},
		},
		{
			name: "9.5 to 9.6 is a major upgrade",
			base: "postgres:9.5-stretch", head: "postgres:9.6-stretch",
			want: []string{"postgres/major-upgrade=error"},
		},
		{
			name: "9.6 to 10 orders by server_version_num",
			base: "postgres:9.6-stretch", head: "postgres:10-stretch",
			want: []string{"postgres/major-upgrade=error"},
		},
		{
			name: "downgrade",
			base: "postgres:12-bookworm", head: "postgres:11-bookworm",
			want: []string{"postgres/downgrade=error"},
		},
		{
			name: "to a floating tag",
			base: "postgres:17-bookworm", head: "postgres:17",
			want: []string{"image/collation-change=warning", "image/floating-os-tag=warning"},
		},
		{
			name: "new database image with a floating tag",
			head: "postgres:latest",
			want: []string{"image/floating-os-tag=warning"},
		},
		{
			name: "new pinned database image",
			head: "postgres:17.2-bookworm",
			want: []string{},
		},
		{
			name: "builder stage swaps libc: a warning only",
			base: "golang:1.22-bookworm", head: "golang:1.22-alpine3.19",
			want: []string{"image/libc-swap=warning"},
		},
		{
			name: "a stage that runs Postgres is a database",
			base: "debian:bookworm", head: "alpine:3.20", baseRunsPG: true, headRunsPG: true,
			want: []string{"image/collation-change=error", "image/libc-swap=error"},
		},
		{
			name: "static distroless has no libc to swap",
			base: "golang:1.22-bookworm", head: "gcr.io/distroless/static-debian12",
			want: []string{},
		},
		{
			name: "a new unknown database image",
			head: "acme/db-custom:2024", headRunsPG: true,
			want: []string{"image/unknown=notice"},
		},
		{
			name: "from a known to an unknown database image",
			base: "postgres:16-bookworm", head: "acme/db-custom:2024", headRunsPG: true,
			want: []string{"image/identity-changed=warning"},
		},
		{
			name: "from an unknown to a known database image",
			base: "acme/db-custom:2024", head: "postgres:16-bookworm", baseRunsPG: true,
			want: []string{"image/identity-changed=warning"},
		},
		{
			name: "digest only: never a guess",
			base: "postgres:16-bookworm", head: "postgres@sha256:4aea012537edfad80f98d870a36e6b90b4c09b27be7f4b4759d72db863baeebb",
			want: []string{"image/identity-changed=warning"},
		},
		{
			name: "new digest under the same tag",
			base: "postgres:16-bookworm@sha256:1111111111111111111111111111111111111111111111111111111111111111",
			head: "postgres:16-bookworm@sha256:2222222222222222222222222222222222222222222222222222222222222222",
			want: []string{"image/identity-changed=warning"},
		},
		{
			name: "new digest of an application image",
			base: "golang:1.22-bookworm@sha256:1111111111111111111111111111111111111111111111111111111111111111",
			head: "golang:1.22-bookworm@sha256:2222222222222222222222222222222222222222222222222222222222222222",
			want: []string{},
		},
		{
			name: "unknown application image says nothing",
			base: "acme/web:1", head: "acme/web:2",
			want: []string{},
		},
		{
			name: "unchanged floating tag is not blamed on this change",
			base: "postgres:17", head: "postgres:17",
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := facts.Pair{Base: use(t, tt.base, 3, tt.baseRunsPG), Head: use(t, tt.head, 4, tt.headRunsPG)}
			got := summarize(Images([]facts.Pair{p}))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// A finding says what changed from what to what, where, and how to fix it.
func TestFindingContent(t *testing.T) {
	p := facts.Pair{Base: use(t, "postgres:11-stretch", 1, false), Head: use(t, "postgres:12-alpine3.19", 7, false)}
	fs := Images([]facts.Pair{p})
	byRule := map[string]finding.Finding{}
	for _, f := range fs {
		byRule[f.Rule] = f
		if f.File != "db/Dockerfile" || f.Line != 7 {
			t.Errorf("%s at %s:%d, want the head line db/Dockerfile:7", f.Rule, f.File, f.Line)
		}
		if f.Title == "" || f.Message == "" || f.Remediation == "" || f.DocsURL == "" || f.Fingerprint == "" {
			t.Errorf("%s has an empty field: %+v", f.Rule, f)
		}
	}
	for rule, parts := range map[string][]string{
		"image/libc-swap":        {"glibc", "musl", "postgres:11-stretch", "postgres:12-alpine3.19", "Debian stretch, glibc 2.24"},
		"image/collation-change": {"glibc → musl", "REINDEX", "bt_index_check"},
		"postgres/major-upgrade": {"11", "12", "pg_upgrade", "cannot open a data directory"},
	} {
		f, ok := byRule[rule]
		if !ok {
			t.Errorf("no %s finding", rule)
			continue
		}
		text := f.Message + "\n" + f.Evidence + "\n" + f.Remediation
		for _, part := range parts {
			if !strings.Contains(text, part) {
				t.Errorf("%s does not mention %q:\n%s", rule, part, text)
			}
		}
	}
}

// Fingerprints hold when lines move, and differ between uses.
func TestFingerprintIgnoresLines(t *testing.T) {
	a := Images([]facts.Pair{{Base: use(t, "postgres:11-stretch", 1, false), Head: use(t, "postgres:11-alpine3.19", 2, false)}})
	b := Images([]facts.Pair{{Base: use(t, "postgres:11-stretch", 10, false), Head: use(t, "postgres:11-alpine3.19", 40, false)}})
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("findings: %d and %d", len(a), len(b))
	}
	seen := map[string]bool{}
	for i := range a {
		if a[i].Fingerprint != b[i].Fingerprint {
			t.Errorf("%s: fingerprint moved with the line", a[i].Rule)
		}
		if seen[a[i].Fingerprint] {
			t.Errorf("two findings share fingerprint %s", a[i].Fingerprint)
		}
		seen[a[i].Fingerprint] = true
	}
}

func TestUnresolvedFrom(t *testing.T) {
	h := &facts.ImageUse{File: "Dockerfile", Line: 2, Key: "final", Label: "the final stage", Raw: "postgres:${PG}", Unresolved: []string{"PG"}}
	fs := Images([]facts.Pair{{Head: h}})
	if len(fs) != 1 || fs[0].Rule != ImageUnknown.ID || !strings.Contains(fs[0].Message, "PG has no value") {
		t.Fatalf("findings = %+v", fs)
	}
}
