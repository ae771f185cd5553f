package imageref

import (
	"reflect"
	"strings"
	"testing"
)

// nothing is a reference whose name says nothing: Identify leaves the
// unknown identity as the knowledge base gave it (Source "").
var nothing = want{note: "is not in breakwater's knowledge base"}

func TestInferFromName(t *testing.T) {
	var (
		noble  = want{known: true, os: "ubuntu", release: "24.04", libc: "glibc", libcVersion: "2.39", icu: "74"}
		focal  = want{known: true, os: "ubuntu", release: "20.04", libc: "glibc", libcVersion: "2.31", icu: "66"}
		rhel8  = want{known: true, os: "rhel", release: "8", libc: "glibc", libcVersion: "2.28"}
		rhel9  = want{known: true, os: "rhel", release: "9", libc: "glibc", libcVersion: "2.34"}
		noOS   = want{}
		dbOnly = unknown(true, "a Postgres image; it does not name the Postgres major; it names no OS")
	)
	tests := []struct {
		ref  string
		want want
	}{
		// Postgres major and OS from the path.
		{"acme/postgres-12.6-alpine:insiders@" + dgst,
			musl.pgm("12").floats("inferred from the name acme/postgres-12.6-alpine:insiders: Postgres 12, Alpine (musl); the name does not pin the Alpine release")},
		{"acme/postgres-12.6-alpine@" + dgst, musl.pgm("12").floats("inferred from the name acme/postgres-12.6-alpine: Postgres 12, Alpine (musl)")},
		{"acme/postgres-12.6:insiders@" + dgst, noOS.pgm("12").noted("Postgres 12; it names no OS")},
		{"acme/postgres-11.1:19-02-13_abc", noOS.pgm("11").noted("Postgres 11")},
		{"registry.example.com/db/postgresql15-bookworm:1.0", bookworm.pgm("15").noted("Postgres 15, Debian bookworm (glibc 2.36, ICU 72)")},
		{"ghcr.io/acme/pg16:latest", noOS.pgm("16").noted("Postgres 16")},
		{"acme/timescaledb-pg15:2.11", noOS.pgm("15").noted("Postgres 15")},
		{"acme/postgis-3.4-pg16:1", noOS.pgm("16").noted("Postgres 16")},
		{"acme/postgresql15", noOS.pgm("15").noted("Postgres 15")},
		{"acme/pg14:1.0", noOS.pgm("14").noted("Postgres 14")},
		{"acme/pg-14:1.0", noOS.pgm("14").noted("Postgres 14")},
		{"acme/pg_14:1.0", noOS.pgm("14").noted("Postgres 14")},
		{"acme/postgres96:1", noOS.pgm("9.6").noted("Postgres 9.6")},
		{"acme/postgresql12-ubuntu-20.04:3", focal.pgm("12").noted("Ubuntu 20.04 (glibc 2.31, ICU 66)")},
		{"quay.io/acme/postgresql-14-ubi8:1", rhel8.pgm("14").noted("Postgres 14, RHEL 8 (glibc 2.28)")},
		{"harbor.example.com/dockerhub-proxy/library/postgres:16-bookworm", bookworm.pgm("16").noted("Postgres 16, Debian bookworm")},
		{"localhost:5000/db/postgres:17-trixie", trixie.pgm("17").noted("Debian trixie (glibc 2.41, ICU 76)")},

		// Postgres major from the tag of a Postgres repository.
		{"acme/pgsql:18-11-26_9.4_abc", noOS.pgm("9.4").noted("inferred from the name acme/pgsql:18-11-26_9.4_abc: Postgres 9.4")},
		{"acme/pgsql:95244_2021-05-06_2c1f77e", dbOnly},
		{"acme/postgres:12.6-alpine3.20", alpine("3.20", "", "74").pgm("12").noted("Alpine 3.20 (musl, ICU 74)")},
		{"acme/postgres:16-alpine3.21", alpine("3.21", "1.2.5", "74").pgm("16").noted("Alpine 3.21 (musl 1.2.5, ICU 74)")},
		{"acme/postgres:16-alpine3.99", alpine("3.99", "", "").pgm("16").noted("Alpine 3.99 (musl)")},
		{"acme/postgres:16-bullseye", bullseye.pgm("16").noted("Debian bullseye (glibc 2.31, ICU 67)")},
		{"acme/postgres:15-jammy", jammy.pgm("15").noted("Ubuntu 22.04")},
		{"acme/postgres-17:noble", noble.pgm("17").noted("Postgres 17, Ubuntu 24.04")},
		{"acme/postgres:14.9-el9", rhel9.pgm("14").noted("RHEL 9")},
		{"acme/postgresql:16.1.0-debian-12-r5", bookworm.pgm("16").noted("Postgres 16, Debian bookworm")},
		{"acme/postgres:9.6.24-stretch", stretch.pgm("9.6").noted("Postgres 9.6, Debian stretch (glibc 2.24, ICU 57)")},
		{"acme/postgres:8.4", noOS.pgm("8.4").noted("Postgres 8.4")},
		{"acme/postgis:16-3.4", noOS.pgm("16").noted("Postgres 16")},
		{"acme/timescaledb:2.14.2-pg16", noOS.pgm("16").noted("Postgres 16")},
		{"acme/pgvector:pg16-bookworm", bookworm.pgm("16").noted("Postgres 16")},
		{"acme/postgres:pg15-alpine", musl.pgm("15").floats("Postgres 15, Alpine (musl)")},
		{"acme/postgres:15-ALPINE", musl.pgm("15").floats("Postgres 15, Alpine (musl)")},
		{"acme/postgres:15.1.0.147", noOS.pgm("15").noted("Postgres 15")},
		{"crunchydata/crunchy-postgres:ubi8-15.4-0", rhel8.pgm("15").noted("Postgres 15, RHEL 8")},
		{"ghcr.io/acme/pg:17", noOS.pgm("17").noted("Postgres 17")},

		// A Postgres repository whose name does not say the major, or says two.
		{"acme/postgres:latest", dbOnly},
		{"acme/postgres@" + dgst, dbOnly},
		{"acme/postgres:99", dbOnly},
		{"acme/postgres:9.7", dbOnly},
		{"acme/postgres:20240101", dbOnly},
		{"acme/postgres-app:2.1.0", dbOnly},
		{"acme/pg12-pg15:1", unknown(true, "it names more than one Postgres version (12, 15), so the major is unknown")},
		{"acme/postgres:16-bookworm-alpine", unknown(true, "it names more than one OS (debian, alpine), so the OS is unknown").pgm("16")},
		{"acme/postgres:15-buster-bullseye", glibc.pgm("15").floats("it names more than one Debian release (buster, bullseye), so the release is unknown")},
		{"acme/postgres:16-distroless", want{os: "debian", floating: true, note: "Debian (C library unknown); the name does not pin the Debian release; distroless images ship glibc"}.pgm("16")},

		// Not databases: tools, and Postgres words only in the tag. Some still
		// tell their OS.
		{"postgres_exporter", nothing},
		{"wrouesnel/postgres_exporter:v0.8.0", nothing},
		{"prometheuscommunity/postgres-exporter:v0.15.0", nothing},
		{"quay.io/prometheuscommunity/postgres-exporter:v0.15.0", nothing},
		{"acme/prometheus-postgres-exporter:1.0", nothing},
		{"pgbouncer/pgbouncer:1.22", nothing},
		{"bitnami/pgbouncer", nothing},
		{"edoburu/pgbouncer:1.22.0-p0", nothing},
		{"acme/pgbouncer-pg14:1", nothing},
		{"bitnami/pgbouncer:1.22.0-debian-12-r0", bookworm.noted("inferred from the name bitnami/pgbouncer:1.22.0-debian-12-r0: Debian bookworm")},
		{"dpage/pgadmin4:8", nothing},
		{"zalando/postgres-operator:v1.10.1", nothing},
		{"acme/postgres-backup-s3:16", nothing},
		{"acme/pgpool:4.5", nothing},
		{"acme/postgres-pgpool:4.5", nothing},
		{"acme/postgres-client:15-alpine", musl.floats(`not a database ("client" names a tool), Alpine (musl)`)},
		{"acme/pgvector-tools:1", nothing},
		{"tianon/postgres-upgrade:13-to-16", nothing},
		{"acme/app:pg-compatible", nothing},
		{"acme/api:1.4-pg15", nothing},
		{"acme/migrations:postgres-16", nothing},
		{"acme/pg_dump1:1", nothing},
		{"acme/pg:latest", nothing},
		{"acme/mypostgres:15", nothing},
		{"acme/blockbuster:1", nothing},
		{"acme/app:el-1.0", nothing},
		{"alpine/git:2.43", musl.floats("inferred from the name alpine/git:2.43: Alpine (musl); the name does not pin the Alpine release")},
		{"acme/web-alpine:1", musl.floats("Alpine (musl)")},
		{"flyway/flyway:10-alpine", musl.floats("Alpine (musl)")},
		{"nginx:1.25-alpine", musl.floats("Alpine (musl)")},
		{"redis:7-bookworm", bookworm.noted("Debian bookworm")},
		{"acme/app:1.2.3-1.el8", rhel8.noted("RHEL 8")},
		{"acme/app:1.0-distroless-static-debian12", want{known: true, os: "debian", release: "bookworm", libc: "none", note: "Debian bookworm (no C library)"}},
	}
	kb := Default()
	for _, tt := range tests {
		r, got, ok := checkIdentity(t, kb, tt.ref, tt.want)
		if !ok {
			continue
		}
		if tt.want == nothing {
			// The name said nothing: the identity is the knowledge base's own.
			base := Identity{Ref: r, Note: r.Path + " is not in breakwater's knowledge base"}
			if !reflect.DeepEqual(got, base) {
				t.Errorf("Identify(%s) = %+v, want the unknown identity unchanged", tt.ref, got)
			}
			continue
		}
		if got.Source != SourceName || got.Sources != nil {
			t.Errorf("Identify(%s): Source %q, Sources %v; want %q alone", tt.ref, got.Source, got.Sources, SourceName)
		}
		for _, fact := range []string{FactOS, FactLibc, FactICU, FactPostgres} {
			if !got.Weak(fact) {
				t.Errorf("Identify(%s): %s is not weak", tt.ref, fact)
			}
		}
		if !strings.HasPrefix(got.Note, r.Path+" is not in breakwater's knowledge base; inferred from the name ") {
			t.Errorf("Identify(%s): note %q does not say why and what it inferred", tt.ref, got.Note)
		}
		if got.Known != (got.OS != "" && got.Libc.Family != "") || got.Floating != (got.OS != "" && got.Release == "") {
			t.Errorf("Identify(%s): Known %v, Floating %v do not follow OS %q, release %q, libc %q",
				tt.ref, got.Known, got.Floating, got.OS, got.Release, got.Libc.Family)
		}
	}
}

// Inference never touches a repository the knowledge base lists: what it
// knows stands, and a tag it does not cover stays unknown.
func TestInferDoesNotOverrideKB(t *testing.T) {
	kb := Default()
	for _, ref := range []string{
		"postgres:16-bookworm", "postgres:17", "postgres:16-alpine3.20", "postgres:17-alpine",
		"postgres:bullseye", "postgres:alpine3.20", "postgres:99", "postgres:8.4", "postgres@" + dgst,
		"postgis/postgis", "postgis/postgis:17-master", "timescale/timescaledb-ha:pg11",
		"bitnami/postgresql:14.10", "pgvector/pgvector:pg17-alpine", "citusdata/citus:12.1",
		"ghcr.io/cloudnative-pg/postgresql:17-standard-ubi9", "alpine:3.99", "debian:sid",
		"gcr.io/distroless/base-debian99", "node:20-alpine", "golang:1.22-bookworm",
	} {
		r, err := Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		got := kb.Identify(r)
		if got.Source != SourceKB || got.Sources != nil || strings.Contains(got.Note, "inferred") {
			t.Errorf("Identify(%s): Source %q, Sources %v, note %q; want the knowledge base's answer alone", ref, got.Source, got.Sources, got.Note)
		}
	}
	r, _ := Parse("postgres:16-bookworm")
	got := kb.Identify(r)
	if !got.Known || got.OS != "debian" || got.Release != "bookworm" || got.PostgresMajor != 1600 || got.Weak(FactPostgres) {
		t.Errorf("Identify(postgres:16-bookworm) = %+v", got)
	}
	// A tag of a listed repository the knowledge base does not cover gives
	// no facts, whatever the tag looks like.
	r, _ = Parse("postgres:alpine3.20")
	if got := kb.Identify(r); got.Known || got.OS != "" || got.PostgresMajor != 0 {
		t.Errorf("Identify(postgres:alpine3.20) = %+v, want unknown", got)
	}
}

func TestNameMajor(t *testing.T) {
	tests := []struct {
		v     string
		glued bool
		want  PGMajor
	}{
		{"12.6", false, 1200}, {"15", false, 1500}, {"30", false, 3000}, {"16.1.0", false, 1600},
		{"9.4", false, 904}, {"9.6.24", false, 906}, {"8.0", false, 800}, {"8.4", false, 804},
		{"96", true, 906}, {"84", true, 804}, {"96", false, 0}, {"97", true, 0},
		{"9", false, 0}, {"9.7", false, 0}, {"8.5", false, 0}, {"7.4", false, 0}, {"31", false, 0},
		{"95244", false, 0}, {"2021", false, 0}, {"3.4", false, 0}, {"2.11", false, 0},
		{"05", false, 0}, {"012", false, 0}, {"", false, 0}, {"1.2.x", false, 0},
	}
	for _, tt := range tests {
		if got := nameMajor(tt.v, tt.glued); got != tt.want {
			t.Errorf("nameMajor(%q, %v) = %d, want %d", tt.v, tt.glued, got, tt.want)
		}
	}
}

func TestNameTokens(t *testing.T) {
	var got []string
	for _, tk := range nameTokens("acme/postgresql15-bookworm", "18-11-26_9.4_abc.el8-alpine3.20") {
		s := tk.text
		switch {
		case tk.date:
			s += "(date)"
		case tk.isVer:
			s += "(v)"
		}
		got = append(got, s)
	}
	want := []string{"acme", "postgresql15", "bookworm", "18(date)", "11(date)", "26(date)", "9.4(v)", "abc", "el8", "alpine3.20"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nameTokens = %q, want %q", got, want)
	}
}
