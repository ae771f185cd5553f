package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

func rules(fs []finding.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	return strings.Join(out, "\n")
}

// Links out of the repository are skipped with a notice and never read;
// the link inside the repository is checked like any file.
func TestSymlinksAreNotFollowedOut(t *testing.T) {
	g := testgit.New(t)
	base := g.Commit("base")
	g.Write("real/Dockerfile", "FROM postgres:16-bookworm\n")
	g.Symlink("../real/Dockerfile", "inside/Dockerfile")
	g.Symlink("/etc/passwd", "etc/Dockerfile")
	g.Symlink("../../outside", "up/Dockerfile")
	head := g.Commit("head")

	for _, h := range []string{head, change.Worktree} {
		res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: h})
		if err != nil {
			t.Fatal(err)
		}
		got := rules(res.Report.Findings)
		want := "etc/Dockerfile:0 input/skipped\nup/Dockerfile:0 input/skipped"
		if got != want {
			t.Errorf("head %s: findings\n%s\nwant\n%s", h, got, want)
		}
		for _, f := range res.Report.Findings {
			if strings.Contains(f.Message, "root:") {
				t.Errorf("a file outside the repository was read: %s", f.Message)
			}
		}
	}
}

// A failure of the tool is an error, never an empty report.
func TestFailuresAreErrors(t *testing.T) {
	g := testgit.New(t)
	g.Write("Dockerfile", "FROM postgres:16-bookworm\n")
	base := g.Commit("base")
	g.Write(".breakwater.yml", "suppress:\n  - rule: image/no-such-rule\n    reason: typo\n")
	head := g.Commit("head")

	tests := []struct {
		name string
		opt  Options
		msg  string
	}{
		{"missing base", Options{Repo: g.Dir, Base: "0123456789abcdef0123456789abcdef01234567", Head: head}, "--base"},
		{"missing head", Options{Repo: g.Dir, Base: base, Head: "no-such-branch"}, "--head"},
		{"not a repository", Options{Repo: t.TempDir(), Base: base, Head: head}, "not inside a git work tree"},
		{"bad config", Options{Repo: g.Dir, Base: base, Head: head}, `.breakwater.yml:2: suppress: unknown rule "image/no-such-rule"`},
		{"missing config file", Options{Repo: g.Dir, Base: base, Head: head, ConfigFile: g.Dir + "/nope.yml"}, "nope.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Run = %v, %v; want an error containing %q", res, err, tt.msg)
			}
		})
	}
}

// BenchmarkDockerfiles measures a change of 2,000 Dockerfiles, the size
// the closing note of the foundation issue reports on.
func BenchmarkDockerfiles(b *testing.B) {
	const n = 2000
	g := testgit.New(b)
	for i := range n {
		g.Write(fmt.Sprintf("svc/%d/Dockerfile", i), fmt.Sprintf("FROM golang:1.22-bookworm AS build\nRUN go build\nFROM postgres:16-bookworm\nLABEL n=%d\n", i))
	}
	base := g.Commit("base")
	for i := range n {
		img := []string{"postgres:16-alpine3.20", "postgres:17-bookworm", "postgres:16-trixie"}[i%3]
		g.Write(fmt.Sprintf("svc/%d/Dockerfile", i), fmt.Sprintf("FROM golang:1.22-bookworm AS build\nRUN go build\nFROM %s\nLABEL n=%d\n", img, i))
	}
	head := g.Commit("head")
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Report.Findings) < n {
			b.Fatalf("%d findings for %d changed Dockerfiles", len(res.Report.Findings), n)
		}
	}
}

func TestDetect(t *testing.T) {
	g := testgit.New(t)
	g.Write("db/Dockerfile", "FROM postgres:15-bookworm\n")
	g.Write("ci/Dockerfile", "FROM postgres:15-bookworm\n")
	g.Write("app/Dockerfile", "FROM golang:1.22-bookworm\n")
	base := g.Commit("base")
	g.Write("db/Dockerfile", "FROM postgres:16-alpine3.20\n")
	g.Write("ci/Dockerfile", "FROM postgres:16-alpine3.20\n")
	g.Write("tools/Dockerfile", "FROM debian:bookworm\nRUN apt-get install -y postgresql-15\n")
	head := g.Commit("head")

	d, err := Detect(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	if d.BasePrimary != "postgres:15-bookworm" || d.HeadPrimary != "postgres:16-alpine3.20" {
		t.Errorf("primary = %q → %q", d.BasePrimary, d.HeadPrimary)
	}
	if len(d.BaseImages) != 2 || len(d.HeadImages) != 3 {
		t.Errorf("images: base %+v head %+v", d.BaseImages, d.HeadImages)
	}
	for _, im := range d.HeadImages {
		if im.Image == "postgres:16-alpine3.20" && (im.PostgresMajor != "16" || im.Libc != "musl") {
			t.Errorf("head image facts: %+v", im)
		}
	}
}

// Findings say where the facts they rest on came from.
func TestEvidenceNamesSources(t *testing.T) {
	g := testgit.New(t)
	g.Write("compose.yml", "services:\n  db:\n    build: ./db\n    image: acme/db\n")
	g.Write("db/Dockerfile", "FROM postgres:14-bookworm\n")
	g.Write("app/Dockerfile", "FROM alpine:3.19\nRUN apk add 'postgresql=15.5-r0'\n")
	base := g.Commit("base")
	g.Write("compose.yml", "services:\n  db:\n    build: ./db\n    image: acme/db # the database\n")
	g.Write("db/Dockerfile", "FROM postgres:14-alpine3.20\n")
	g.Write("app/Dockerfile", "FROM alpine:3.19\nRUN apk add 'postgresql=16.2-r0'\n")
	head := g.Commit("head")
	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"compose.yml image/libc-swap":           "source: dockerfile",
		"app/Dockerfile postgres/major-upgrade": "alpine:3.19 + postgresql=15.5-r0 (Postgres 15)",
	}
	for _, f := range res.Report.Findings {
		if w, ok := want[f.File+" "+f.Rule]; ok {
			if !strings.Contains(f.Evidence, w) {
				t.Errorf("%s %s evidence %q lacks %q", f.File, f.Rule, f.Evidence, w)
			}
			delete(want, f.File+" "+f.Rule)
		}
	}
	for k := range want {
		t.Errorf("no finding %s", k)
	}
}

// A submodule is named as unchecked, unless the config excludes its path.
func TestSubmoduleNoticeHonoursExclude(t *testing.T) {
	sub := testgit.New(t)
	sub.Write("Dockerfile", "FROM postgres:16-bookworm\n")
	sub.Commit("sub")
	for _, tt := range []struct {
		config string
		want   int
	}{{"", 1}, {"exclude: [vendor/**]\n", 0}} {
		g := testgit.New(t)
		if tt.config != "" {
			g.Write(".breakwater.yml", tt.config)
		}
		base := g.Commit("base")
		g.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "vendor/db")
		head := g.Commit("add submodule")
		res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range res.Report.Findings {
			if f.Rule == "input/skipped" && f.File == "vendor/db" {
				n++
			}
		}
		if n != tt.want {
			t.Errorf("config %q: %d submodule notices, want %d", tt.config, n, tt.want)
		}
	}
}
