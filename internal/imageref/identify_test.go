package imageref

import (
	"strings"
	"testing"
)

// want is the part of an Identity a case pins down; note is a substring the
// Note must contain ("" when the Note must be empty, "*" to skip the check).
type want struct {
	known             bool
	os, release       string
	libc, libcVersion string
	icu, pg           string
	db                bool
	floating          bool
	pgFloating        bool
	note              string
}

// Shorthands for the common shapes of want.
func debian(rel, glibc, icu string) want {
	return want{known: true, os: "debian", release: rel, libc: "glibc", libcVersion: glibc, icu: icu}
}
func alpine(rel, musl, icu string) want {
	return want{known: true, os: "alpine", release: rel, libc: "musl", libcVersion: musl, icu: icu}
}
func (w want) pgm(major string) want { w.pg, w.db = major, true; return w }
func (w want) floats(note string) want {
	w.floating, w.note = true, note
	return w
}
func (w want) latest() want { w.pgFloating = true; return w }
func (w want) noted(note string) want {
	w.note = note
	return w
}
func unknown(db bool, note string) want { return want{db: db, note: note} }

var (
	bookworm = debian("bookworm", "2.36", "72")
	trixie   = debian("trixie", "2.41", "76")
	bullseye = debian("bullseye", "2.31", "67")
	buster   = debian("buster", "2.28", "63")
	stretch  = debian("stretch", "2.24", "57")
	jessie   = debian("jessie", "2.19", "52")
	jammy    = want{known: true, os: "ubuntu", release: "22.04", libc: "glibc", libcVersion: "2.35", icu: "70"}
	musl     = alpine("", "", "")
	glibc    = want{known: true, os: "debian", libc: "glibc"}
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		ref  string
		want want
	}{
		// postgres: a major tag follows the Debian default; a minor tag is frozen
		// at its last build; EOL majors stop at their last build.
		{"postgres:17", trixie.pgm("17").floats("bookworm until 2025-08, trixie since")},
		{"postgres:17@" + dgst, trixie.pgm("17").floats("bookworm until 2025-08, trixie since")},
		{"postgres:17.2", bookworm.pgm("17").floats("frozen at its last build, which used bookworm")},
		{"postgres:17.4", bookworm.pgm("17").floats("which used bookworm")},
		{"postgres:17.5", trixie.pgm("17").floats("which used trixie")},
		{"postgres:16", trixie.pgm("16").floats("bookworm until 2025-08, trixie since")},
		{"postgres:15.2", bullseye.pgm("15").floats("which used bullseye")},
		{"postgres:15.3", bookworm.pgm("15").floats("which used bookworm")},
		{"postgres:14", trixie.pgm("14").floats("bullseye until 2023-06, bookworm until 2025-08, trixie since")},
		{"postgres:13", trixie.pgm("13").floats("reached EOL in 2025-11): buster until 2021-09, bullseye until 2023-06, bookworm until 2025-08, then trixie")},
		{"postgres:13.20", bookworm.pgm("13").floats("which used bookworm")},
		{"postgres:12", bookworm.pgm("12").floats("reached EOL in 2024-11): buster until 2021-09, bullseye until 2023-06, then bookworm")},
		{"postgres:12.7", buster.pgm("12").floats("which used buster")},
		{"postgres:12.8", bullseye.pgm("12").floats("which used bullseye")},
		{"postgres:18", trixie.pgm("18").floats("trixie so far")},
		{"postgres:11", stretch.pgm("11").floats("stopped at 11.16")},
		{"postgres:11.16", stretch.pgm("11").floats("which used stretch")},
		{"postgres:11.20", unknown(true, "does not exist: tags of Postgres 11 without an OS suffix stopped at 11.16")},
		{"postgres:10", stretch.pgm("10").floats("stopped at 10.21")},
		{"postgres:9.6", stretch.pgm("9.6").floats("jessie until 2018-05, then stretch")},
		{"postgres:9", stretch.pgm("9.6").floats("then stretch")},
		{"postgres:9.6.24", stretch.pgm("9.6").floats("which used stretch")},
		{"postgres:9.4.17", jessie.pgm("9.4").floats("which used jessie")},
		{"postgres:9.5", stretch.pgm("9.5").floats("reached EOL in 2021-02")},
		{"postgres:17-bookworm", bookworm.pgm("17")},
		{"postgres:17.2-bookworm", bookworm.pgm("17")},
		{"postgres:17-trixie", trixie.pgm("17")},
		{"postgres:12-bullseye", bullseye.pgm("12")},
		{"postgres:11-stretch", stretch.pgm("11")},
		{"postgres:9.6-buster", buster.pgm("9.6")},
		{"postgres:18rc1-trixie", trixie.pgm("18")},
		{"postgres:17-alpine", musl.pgm("17").floats("does not name its Alpine release; whichever it is, the C library is musl")},
		{"postgres:9.6-alpine", musl.pgm("9.6").floats("musl")},
		{"postgres:17.2-alpine3.20", alpine("3.20", "", "74").pgm("17")},
		{"postgres:16-alpine3.19", alpine("3.19", "1.2.4", "74").pgm("16")},
		{"postgres:alpine", musl.pgm("18").latest().floats("newest Postgres major: 16 until 2024-09, 17 until 2025-09, 18 since")},
		{"postgres:alpine3.22", alpine("3.22", "1.2.5", "").pgm("18").latest().noted("newest Postgres major")},
		{"postgres:latest", trixie.pgm("18").latest().floats("18 since; it does not name its Debian release")},
		{"postgres", trixie.pgm("18").latest().floats("postgres:latest follows the newest Postgres major")},
		{"postgres:bookworm", bookworm.pgm("18").latest().noted("newest Postgres major")},
		{"postgres:trixie", trixie.pgm("18").latest().noted("newest Postgres major")},
		{"public.ecr.aws/docker/library/postgres:17-bookworm", bookworm.pgm("17")},
		{"docker.io/library/postgres:17-bookworm", bookworm.pgm("17")},
		// postgres tags the knowledge base must not guess.
		{"postgres:banana", unknown(true, `tag "banana" of postgres is not in breakwater's knowledge base`)},
		{"postgres:99", unknown(true, "Postgres 99, which breakwater's knowledge base does not list")},
		{"postgres:8.4", unknown(true, "does not list")},
		{"postgres:17-windowsservercore", unknown(true, "not in breakwater's knowledge base")},
		{"postgres:18beta3", unknown(true, "pre-release tag")},
		{"postgres:bullseye", unknown(true, "not in breakwater's knowledge base")},
		{"postgres:alpine3.20", unknown(true, "not in breakwater's knowledge base")},
		{"postgres@" + dgst, unknown(true, "pinned by digest alone")},

		// postgis: bare tags are built FROM postgres:<major>-bullseye (18: trixie).
		{"postgis/postgis:16-3.4", bullseye.pgm("16").floats("postgis's choice of base")},
		{"postgis/postgis:16-3.4.2", bullseye.pgm("16").floats("bullseye")},
		{"postgis/postgis:17-3.5", bullseye.pgm("17").floats("bullseye")},
		{"postgis/postgis:18-3.6", trixie.pgm("18").floats("trixie")},
		{"postgis/postgis:16-3.4-alpine", musl.pgm("16").floats("musl")},
		{"postgis/postgis:17-3.5-alpine3.21", alpine("3.21", "1.2.5", "74").pgm("17")},
		{"postgis/postgis:18-3.6-trixie", trixie.pgm("18")},
		{"postgis/postgis:13-3.4", unknown(true, "does not know which Debian release")},
		{"postgis/postgis:17-master", unknown(true, "not in breakwater's knowledge base")},
		{"postgis/postgis", unknown(true, "not in breakwater's knowledge base")},

		// timescale: timescaledb is Alpine, timescaledb-ha is Ubuntu.
		{"timescale/timescaledb:latest-pg16", musl.pgm("16").floats("FROM postgres:<major>-alpine")},
		{"timescale/timescaledb:2.14.2-pg16", musl.pgm("16").floats("musl")},
		{"timescale/timescaledb:2.14.2-pg15-oss", musl.pgm("15").floats("musl")},
		{"timescale/timescaledb:2.14.2-pg16-bitnami", unknown(true, "not in breakwater's knowledge base")},
		{"timescale/timescaledb-ha:pg16", jammy.pgm("16").floats("timescaledb-ha's Ubuntu base: 22.04")},
		{"timescale/timescaledb-ha:pg16-all", jammy.pgm("16").floats("22.04")},
		{"timescale/timescaledb-ha:pg16.2-ts2.14.2", jammy.pgm("16").floats("22.04")},
		{"timescale/timescaledb-ha:pg16.2-ts2.14.2-all", jammy.pgm("16").floats("22.04")},
		{"timescale/timescaledb-ha:pg14", jammy.pgm("14").floats("22.04")},
		{"timescale/timescaledb-ha:pg14.2-ts2.6.0", unknown(true, "predate the base it knows")},
		{"timescale/timescaledb-ha:pg11", unknown(true, "predate the base it knows")},

		// bitnami/postgresql: -debian-N names the release; rolling tags follow
		// the catalog's Debian base (majors 12+) or tell Debian only.
		{"bitnami/postgresql:14.10.0-debian-11-r1", bullseye.pgm("14")},
		{"bitnami/postgresql:16.1.0-debian-12-r2", bookworm.pgm("16")},
		{"docker.io/bitnami/postgresql:16.1.0-debian-12-r2", bookworm.pgm("16")},
		{"registry-1.docker.io/bitnami/postgresql:14.10.0-debian-11-r1", bullseye.pgm("14")},
		{"bitnamilegacy/postgresql:17.6.0-debian-12-r4", bookworm.pgm("17")},
		{"bitnami/postgresql:11.5.0-debian-9-r60", stretch.pgm("11")},
		{"bitnami/postgresql:9.6.18-debian-10-r48", buster.pgm("9.6")},
		{"bitnami/postgresql:16-debian-12", bookworm.pgm("16")},
		{"bitnami/postgresql-repmgr:16.2.0-debian-12-r8", bookworm.pgm("16")},
		{"bitnami/postgresql:16", bookworm.pgm("16").floats("follows the Bitnami catalog's Debian base: buster until 2022-06, bullseye until 2024-02, bookworm since")},
		{"bitnami/postgresql:12", bookworm.pgm("12").floats("bitnamilegacy")},
		{"bitnami/postgresql:11", glibc.pgm("11").floats("whichever it is, the C library is glibc")},
		{"bitnami/postgresql:9.6", glibc.pgm("9.6").floats("glibc")},
		{"bitnami/postgresql:14.10.0", glibc.pgm("14").floats("whichever it is, the C library is glibc")},
		{"bitnami/postgresql:9.6.24", glibc.pgm("9.6").floats("glibc")},
		{"bitnamilegacy/postgresql:17.6.0", glibc.pgm("17").floats("bitnamilegacy")},
		{"bitnami/postgresql:latest", unknown(true, `tag "latest" of bitnami/postgresql is not in breakwater's knowledge base`)},
		{"bitnami/postgresql", unknown(true, "not in breakwater's knowledge base")},
		{"bitnami/postgresql:11.5.0-ol-7-r60", unknown(true, "not in breakwater's knowledge base")},
		{"bitnami/postgresql:14.10", unknown(true, "not in breakwater's knowledge base")},
		{"bitnami/postgresql:16.1.0-debian-99-r0", unknown(true, "not in breakwater's knowledge base")},
		{"bitnami/postgresql:9", unknown(true, "Postgres 9, which breakwater's knowledge base does not list")},

		// pgvector: [<pgvector version>-]pg<major>[-<codename>], always Debian.
		{"pgvector/pgvector:pg16-bookworm", bookworm.pgm("16")},
		{"pgvector/pgvector:pg17-trixie", trixie.pgm("17")},
		{"pgvector/pgvector:0.8.1-pg17-trixie", trixie.pgm("17")},
		{"pgvector/pgvector:0.8.1-pg16-bookworm", bookworm.pgm("16")},
		{"pgvector/pgvector:pg16", glibc.pgm("16").floats("whichever it is, the C library is glibc; pgvector/pgvector is the official postgres image")},
		{"pgvector/pgvector:0.7.4-pg16", glibc.pgm("16").floats("glibc")},
		{"docker.io/pgvector/pgvector:pg18", glibc.pgm("18").floats("glibc")},
		{"pgvector/pgvector:pg17-alpine", unknown(true, `tag "pg17-alpine" of pgvector/pgvector is not in breakwater's knowledge base`)},
		{"pgvector/pgvector:latest", unknown(true, "not in breakwater's knowledge base")},
		{"pgvector/pgvector:pg99", unknown(true, "Postgres 99, which breakwater's knowledge base does not list")},

		// cloudnative-pg: <v>[-<stamp>]-<type>-<codename>, <v>[-<build>]-<codename>,
		// and bare tags on the project's default Debian distribution.
		{"ghcr.io/cloudnative-pg/postgresql:17-standard-bookworm", bookworm.pgm("17")},
		{"ghcr.io/cloudnative-pg/postgresql:16.4-minimal-bookworm", bookworm.pgm("16")},
		{"ghcr.io/cloudnative-pg/postgresql:17.6-standard-trixie", trixie.pgm("17")},
		{"ghcr.io/cloudnative-pg/postgresql:17.5-202506020825-system-bullseye", bullseye.pgm("17")},
		{"ghcr.io/cloudnative-pg/postgresql:18beta1-minimal-bookworm", bookworm.pgm("18")},
		{"ghcr.io/cloudnative-pg/postgresql:16.2-bookworm", bookworm.pgm("16")},
		{"ghcr.io/cloudnative-pg/postgresql:14.2-1-bullseye", bullseye.pgm("14")},
		{"ghcr.io/cloudnative-pg/postgresql:17-bullseye", bullseye.pgm("17")},
		{"ghcr.io/cloudnative-pg/postgresql:16.2", glibc.pgm("16").floats("default Debian distribution of the moment")},
		{"ghcr.io/cloudnative-pg/postgresql:17", glibc.pgm("17").floats("glibc")},
		{"ghcr.io/cloudnative-pg/postgresql:16.2-3", glibc.pgm("16").floats("glibc")},
		{"ghcr.io/cloudnative-pg/postgresql:latest", unknown(true, `tag "latest" of ghcr.io/cloudnative-pg/postgresql is not in breakwater's knowledge base`)},
		{"ghcr.io/cloudnative-pg/postgresql:17-standard-ubi9", unknown(true, "not in breakwater's knowledge base")},
		{"ghcr.io/cloudnative-pg/postgresql:16.2-alpine", unknown(true, "not in breakwater's knowledge base")},

		// Postgres-family repositories whose tags are not modelled.
		{"citusdata/citus:12.1", unknown(true, "not the OS of any of its tags")},

		// Official language images: same suffix grammar, not databases.
		{"golang:1.22", glibc.floats("does not name its Debian release; whichever it is, the C library is glibc")},
		{"golang", glibc.floats("glibc")},
		{"golang:1.22-bookworm", bookworm},
		{"golang:1.22.3-bullseye", bullseye},
		{"golang:1.23rc1-bookworm", bookworm},
		{"golang:1.22-alpine3.19", alpine("3.19", "1.2.4", "74")},
		{"golang:1.22-alpine", musl.floats("musl")},
		{"golang:alpine", musl.floats("musl")},
		{"python:3.12-slim-bookworm", bookworm},
		{"python:3.12-slim-trixie", trixie},
		{"python:3.12-bookworm", bookworm},
		{"python:3.12-slim", glibc.floats("glibc")},
		{"python:3.12-alpine", musl.floats("musl")},
		{"python:3.12-alpine3.20", alpine("3.20", "", "74")},
		{"python:3.14-rc-slim-trixie", trixie},
		{"python:3.13.0rc1-bookworm", bookworm},
		{"python:slim-bookworm", bookworm},
		{"node:20-bookworm-slim", bookworm},
		{"node:20-alpine3.19", alpine("3.19", "1.2.4", "74")},
		{"node:lts-alpine", musl.floats("musl")},
		{"node:iron", glibc.floats("glibc")},
		{"node:iron-bookworm-slim", bookworm},
		{"node:bookworm", bookworm},
		{"ruby:3.3-slim-bookworm", bookworm},
		{"ruby:3.3", glibc.floats("glibc")},
		{"ruby:3.4.0-preview2-bookworm", bookworm},
		{"python:3.12-windowsservercore-ltsc2022", unknown(false, "not in breakwater's knowledge base")},
		{"golang:1.22-nanoserver", unknown(false, "not in breakwater's knowledge base")},

		// Plain OS images.
		{"debian:bookworm", bookworm},
		{"debian:bookworm-slim", bookworm},
		{"debian:bookworm-20240211-slim", bookworm},
		{"debian:12", bookworm},
		{"debian:12.5-slim", bookworm},
		{"debian:stretch", stretch},
		{"debian:trixie-backports", trixie},
		{"debian:latest", trixie.floats("follows Debian stable: bookworm until 2025-08, trixie since")},
		{"debian", trixie.floats("Debian stable")},
		{"debian:stable-slim", trixie.floats("Debian stable")},
		{"debian:oldstable", bookworm.floats("Debian oldstable")},
		{"debian:sid", unknown(false, "not in breakwater's knowledge base")},
		{"debian:14", unknown(false, "not in breakwater's knowledge base")},
		{"ubuntu:22.04", jammy},
		{"ubuntu:jammy", jammy},
		{"ubuntu:jammy-20240212", jammy},
		{"ubuntu:18.04", want{known: true, os: "ubuntu", release: "18.04", libc: "glibc", libcVersion: "2.27", icu: "60"}},
		{"ubuntu:focal", want{known: true, os: "ubuntu", release: "20.04", libc: "glibc", libcVersion: "2.31", icu: "66"}},
		{"ubuntu:noble", want{known: true, os: "ubuntu", release: "24.04", libc: "glibc", libcVersion: "2.39", icu: "74"}},
		{"ubuntu:latest", want{known: true, os: "ubuntu", libc: "glibc", floating: true, note: "newest Ubuntu LTS"}},
		{"ubuntu:rolling", unknown(false, "not in breakwater's knowledge base")},
		{"alpine:3.20", alpine("3.20", "", "74")},
		{"alpine:3.20.1", alpine("3.20", "", "74")},
		{"alpine:3.18", alpine("3.18", "1.2.4", "73")},
		{"alpine", musl.floats("musl")},
		{"alpine:edge", musl.floats("musl")},
		{"alpine:3.99", unknown(false, "not in breakwater's knowledge base")},
		{"redhat/ubi8", want{known: true, os: "rhel", release: "8", libc: "glibc", libcVersion: "2.28"}},
		{"redhat/ubi8-minimal:8.9", want{known: true, os: "rhel", release: "8", libc: "glibc", libcVersion: "2.28"}},
		{"redhat/ubi9@" + dgst, want{known: true, os: "rhel", release: "9", libc: "glibc", libcVersion: "2.34"}},
		{"registry.access.redhat.com/ubi9/ubi", want{known: true, os: "rhel", release: "9", libc: "glibc", libcVersion: "2.34"}},
		{"registry.access.redhat.com/ubi9/ubi-minimal:9.4-1194", want{known: true, os: "rhel", release: "9", libc: "glibc", libcVersion: "2.34"}},
		{"registry.access.redhat.com/ubi7/ubi:latest", want{known: true, os: "rhel", release: "7", libc: "glibc", libcVersion: "2.17"}},
		{"registry.access.redhat.com/ubi10/ubi", unknown(false, "not in breakwater's knowledge base")},
		{"amazonlinux:2", want{known: true, os: "amazonlinux", release: "2", libc: "glibc", libcVersion: "2.26"}},
		{"amazonlinux:2023", want{known: true, os: "amazonlinux", release: "2023", libc: "glibc", libcVersion: "2.34"}},
		{"amazonlinux:2023.3.20240219.0", want{known: true, os: "amazonlinux", release: "2023", libc: "glibc", libcVersion: "2.34"}},
		{"public.ecr.aws/amazonlinux/amazonlinux:2", want{known: true, os: "amazonlinux", release: "2", libc: "glibc", libcVersion: "2.26"}},
		{"amazonlinux:latest", want{known: true, os: "amazonlinux", release: "2023", libc: "glibc", libcVersion: "2.34", floating: true, note: "2 until 2023-03, 2023 since"}},
		{"amazonlinux@" + dgst, unknown(false, "pinned by digest alone")},

		// Distroless: the -debianN suffix pins the release; static has no libc.
		{"gcr.io/distroless/base-debian11", bullseye},
		{"gcr.io/distroless/cc-debian12:nonroot", bookworm},
		{"gcr.io/distroless/java17-debian12:debug-nonroot-arm64", bookworm},
		{"gcr.io/distroless/python3-debian12@" + dgst, bookworm},
		{"gcr.io/distroless/static-debian12", want{known: true, os: "debian", release: "bookworm", libc: "none"}},
		{"gcr.io/distroless/static", want{known: true, os: "debian", libc: "none", floating: true, note: "ships no C library"}},
		{"gcr.io/distroless/base", glibc.floats("distroless's current Debian release")},
		{"gcr.io/distroless/base-debian99", unknown(false, "not in breakwater's knowledge base")},

		// Unknown repositories: only what the name says (infer_test.go has more).
		{"acme/db:1", unknown(false, "acme/db is not in breakwater's knowledge base")},
		{"ghcr.io/acme/pg:17", unknown(true, "inferred from the name ghcr.io/acme/pg:17: Postgres 17").pgm("17")},
		{"localhost:5000/postgres:17", unknown(true, "not in breakwater's knowledge base; inferred from the name").pgm("17")},
	}
	kb := Default()
	for _, tt := range tests {
		r, got, ok := checkIdentity(t, kb, tt.ref, tt.want)
		if !ok {
			continue
		}
		if tt.want.note == "" && got.Note != "" {
			t.Errorf("Identify(%s): unexpected note %q", tt.ref, got.Note)
		}
		if got.Ref != r {
			t.Errorf("Identify(%s): Ref %+v, want %+v", tt.ref, got.Ref, r)
		}
		// Source is empty only when the repository itself is unknown, and
		// "name" when its name told something.
		wantSource := "kb"
		switch {
		case got.Note == r.Path+" is not in breakwater's knowledge base":
			wantSource = ""
		case strings.Contains(got.Note, "; inferred from the name "):
			wantSource = SourceName
		}
		if got.Source != wantSource {
			t.Errorf("Identify(%s): Source %q, want %q", tt.ref, got.Source, wantSource)
		}
		if got.Floating && got.Note == "" {
			t.Errorf("Identify(%s): floating without a note saying how", tt.ref)
		}
	}
}

// A repository the knowledge base does not know has no facts at all.
func TestIdentifyUnknownRepository(t *testing.T) {
	r, _ := Parse("acme/db:1")
	got := Default().Identify(r)
	if got.Known || got.Database || got.Source != "" || got.OS != "" || got.PostgresMajor != 0 {
		t.Errorf("Identify(acme/db:1) = %+v, want nothing known", got)
	}
}

func TestPGMajor(t *testing.T) {
	tests := []struct {
		in   string
		want PGMajor
		str  string
	}{
		{"9.4", 904, "9.4"},
		{"9.6", 906, "9.6"},
		{"9.6.24", 906, "9.6"},
		{"10", 1000, "10"},
		{"10.23", 1000, "10"},
		{"17", 1700, "17"},
		{"17.2", 1700, "17"},
		{"18beta3", 1800, "18"},
		{"18rc1", 1800, "18"},
	}
	for _, tt := range tests {
		got, err := ParsePGMajor(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParsePGMajor(%q) = %d (%q), %v; want %d (%q)", tt.in, got, got, err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "9", "17.2.1", "x", "17beta", "17gamma1", "9.6.x", "-1", "+17"} {
		if m, err := ParsePGMajor(bad); err == nil {
			t.Errorf("ParsePGMajor(%q) = %d, want an error", bad, m)
		}
	}
	// 9.5 -> 9.6 and 9.6 -> 10 are both major upgrades, in order.
	if !(PGMajor(904) < 905 && PGMajor(905) < 906 && PGMajor(906) < 1000 && PGMajor(1000) < 1700) {
		t.Error("PGMajor does not order majors")
	}
	if MajorString(906) != "9.6" || MajorString(1700) != "17" {
		t.Error("MajorString does not print the familiar form")
	}
	if PGMajor(0).String() != "" {
		t.Error("PGMajor(0) should print as empty")
	}
}

// summary reduces an identity to the fields the tables pin down; the note
// is checked apart, by substring.
func summary(got Identity, note string) want {
	return want{
		known: got.Known, os: got.OS, release: got.Release,
		libc: got.Libc.Family, libcVersion: got.Libc.Version,
		icu: got.ICU, pg: got.PostgresMajor.String(),
		db: got.Database, floating: got.Floating, pgFloating: got.PostgresMajorFloating,
		note: note,
	}
}

// checkIdentity parses and identifies ref, and reports where the result differs
// from want (the note by substring). ok is false when ref does not parse.
func checkIdentity(t *testing.T, kb *KB, ref string, want want) (Ref, Identity, bool) {
	t.Helper()
	r, err := Parse(ref)
	if err != nil {
		t.Errorf("Parse(%q): %v", ref, err)
		return Ref{}, Identity{}, false
	}
	got := kb.Identify(r)
	if g := summary(got, want.note); g != want {
		t.Errorf("Identify(%s)\n got %+v\nwant %+v\nnote %q", ref, g, want, got.Note)
	}
	if !strings.Contains(got.Note, want.note) {
		t.Errorf("Identify(%s): note %q does not contain %q", ref, got.Note, want.note)
	}
	return r, got, true
}
