package dockerfile

import (
	"testing"
)

func TestInstalls(t *testing.T) {
	tests := []struct {
		name, src string
		major     string // "" when no versioned server package
		pkg       string
		db        bool
	}{
		{"apk pin", "FROM alpine:3.8\nRUN apk add --no-cache 'postgresql=9.6.10-r0'\n", "9.6", "postgresql=9.6.10-r0", true},
		{"apk pin 11", "FROM alpine:3.9\nRUN apk add --no-cache 'postgresql=11.1-r0' postgresql-contrib\n", "11", "postgresql=11.1-r0", true},
		{"apk versioned name", "FROM alpine:3.20\nRUN apk add postgresql16 postgresql16-contrib\n", "16", "postgresql16", true},
		{"apt versioned name", "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*\n", "15", "postgresql-15", true},
		{"apt pin", "FROM debian:bookworm\nRUN apt-get install -y postgresql-15=15.5-1.pgdg120+1\n", "15", "postgresql-15=15.5-1.pgdg120+1", true},
		{"Debian meta package pin", "FROM debian:bookworm\nRUN apt-get install -y postgresql=15+248\n", "15", "postgresql=15+248", true},
		{"PGDG RPM", "FROM rockylinux:9\nRUN dnf install -y https://download.postgresql.org/pub/repos/yum/reporpms/EL-9-x86_64/pgdg-redhat-repo-latest.noarch.rpm && dnf -qy module disable postgresql && dnf install -y postgresql15-server\n", "15", "postgresql15-server", true},
		{"PGDG 9.6 without the dot", "FROM centos:7\nRUN yum install -y postgresql96-server\n", "9.6", "postgresql96-server", true},
		{"ENV major", "FROM debian:bookworm\nENV PG_MAJOR=16\nRUN apt-get install -y \"postgresql-$PG_MAJOR\"\n", "16", "postgresql-16", true},
		{"global ARG major", "ARG PG=14\nFROM debian:bookworm\nRUN apt-get install -y postgresql-${PG}\n", "14", "postgresql-14", true},
		{"unversioned server", "FROM alpine:3.20\nRUN apk add postgresql\n", "", "", true},
		{"client only", "FROM debian:bookworm\nRUN apt-get install -y postgresql-client-15 libpq-dev\n", "", "", false},
		{"dev headers only", "FROM debian:bookworm\nRUN apt-get install -y postgresql-server-dev-15\n", "", "", false},
		{"through a stage", "FROM alpine:3.9 AS base\nFROM base\nRUN apk add 'postgresql=11.1-r0'\n", "11", "postgresql=11.1-r0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uses, err := Parse("Dockerfile", []byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			u := uses[0]
			m, pkg := u.PackageMajor()
			if m.String() != tt.major || pkg != tt.pkg || u.RunsPostgres != tt.db {
				t.Errorf("major %q pkg %q db %v; want %q %q %v (installs %+v)", m, pkg, u.RunsPostgres, tt.major, tt.pkg, tt.db, u.Installs)
			}
		})
	}
}
