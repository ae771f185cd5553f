package dockerfile

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// use is the part of an ImageUse a case pins down.
type use struct {
	Line       int
	Stage      string
	Image      string
	Unresolved []string
	StageRef   bool
	Scratch    bool
	Platform   string
	Postgres   bool
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		args map[string]string
		want []use
	}{
		{
			name: "plain",
			src:  "FROM postgres:11\n",
			want: []use{{Line: 1, Image: "postgres:11"}},
		},
		{
			name: "global ARG default",
			src:  "# syntax=docker/dockerfile:1\nARG PG_MAJOR=16\nARG VARIANT=alpine\n\nFROM postgres:${PG_MAJOR}-$VARIANT\n",
			want: []use{{Line: 5, Image: "postgres:16-alpine"}},
		},
		{
			name: "build-arg overrides default",
			src:  "ARG PG_MAJOR=16\nFROM postgres:${PG_MAJOR}\n",
			args: map[string]string{"PG_MAJOR": "17"},
			want: []use{{Line: 2, Image: "postgres:17"}},
		},
		{
			name: "ARG default uses earlier ARG",
			src:  "ARG PG=15\nARG BASE=postgres:${PG}-bookworm\nFROM $BASE\n",
			want: []use{{Line: 3, Image: "postgres:15-bookworm"}},
		},
		{
			name: "ARG with default form in FROM",
			src:  "ARG TAG\nFROM postgres:${TAG:-14}\n",
			want: []use{{Line: 2, Image: "postgres:14"}},
		},
		{
			name: "unresolved ARG",
			src:  "ARG PG_MAJOR\nFROM postgres:${PG_MAJOR}\n",
			want: []use{{Line: 2, Unresolved: []string{"PG_MAJOR"}}},
		},
		{
			name: "ARG after FROM is not global",
			src:  "FROM alpine:3.19\nARG X=1\nFROM postgres:$X\n",
			want: []use{{Line: 1, Image: "alpine:3.19"}, {Line: 3, Unresolved: []string{"X"}}},
		},
		{
			name: "stages, stage refs, scratch and platform",
			src: "FROM --platform=$BUILDPLATFORM golang:1.22-bookworm AS build\nRUN go build\n" +
				"FROM build AS test\nFROM scratch AS final\nCOPY --from=build /app /app\n",
			want: []use{
				{Line: 1, Stage: "build", Image: "golang:1.22-bookworm", Platform: "$BUILDPLATFORM"},
				{Line: 3, Stage: "test", Image: "build", StageRef: true},
				{Line: 4, Stage: "final", Image: "scratch", Scratch: true},
			},
		},
		{
			name: "stage names are case-insensitive",
			src:  "FROM debian:bookworm AS Base\nFROM base\n",
			want: []use{{Line: 1, Stage: "base", Image: "debian:bookworm"}, {Line: 2, Image: "base", StageRef: true}},
		},
		{
			name: "digest",
			src:  "FROM postgres:16.2-bookworm@sha256:4aea012537edfad80f98d870a36e6b90b4c09b27be7f4b4759d72db863baeebb\n",
			want: []use{{Line: 1, Image: "postgres:16.2-bookworm@sha256:4aea012537edfad80f98d870a36e6b90b4c09b27be7f4b4759d72db863baeebb"}},
		},
		{
			name: "installing a server package makes a database stage",
			src:  "FROM debian:bookworm\nRUN apt-get update && apt-get install -y postgresql-15 && rm -rf /var/lib/apt/lists/*\n",
			want: []use{{Line: 1, Image: "debian:bookworm", Postgres: true}},
		},
		{
			name: "apk server package",
			src:  "FROM alpine:3.19\nRUN apk add --no-cache postgresql16=16.2-r0\n",
			want: []use{{Line: 1, Image: "alpine:3.19", Postgres: true}},
		},
		{
			name: "client packages do not",
			src:  "FROM debian:bookworm\nRUN apt-get install -y postgresql-client-15 libpq-dev\nCMD [\"psql\"]\n",
			want: []use{{Line: 1, Image: "debian:bookworm"}},
		},
		{
			name: "starting the server does, through a stage chain",
			src:  "FROM ubuntu:22.04 AS os\nFROM os AS db\nENTRYPOINT [\"/usr/lib/postgresql/14/bin/postgres\", \"-D\", \"/data\"]\n",
			want: []use{{Line: 1, Stage: "os", Image: "ubuntu:22.04", Postgres: true}, {Line: 2, Stage: "db", Image: "os", StageRef: true, Postgres: true}},
		},
		{
			name: "escape directive",
			src:  "# escape=`\nARG V=13\nFROM postgres:${V} `\n  AS db\n",
			want: []use{{Line: 3, Stage: "db", Image: "postgres:13"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uses, err := Parse("Dockerfile", []byte(tt.src), tt.args)
			if err != nil {
				t.Fatal(err)
			}
			var got []use
			for _, u := range uses {
				got = append(got, use{u.Line, u.Stage, u.Image, u.Unresolved, u.StageRef, u.Scratch, u.Platform, u.RunsPostgres})
				if u.File != "Dockerfile" {
					t.Errorf("File = %q", u.File)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
	}{
		{"unknown instruction", "FROM postgres:16\nRUN true\nFROMM postgres:17\n", 3},
		{"FROM without image", "FROM postgres:16\n\nFROM\n", 3},
		{"no FROM", "RUN true\n", 0},
		{"empty", "", 0},
		{"bad escape directive", "# escape=x\nFROM postgres:16\n", 0},
		// The parser stops at a line over 64 KiB; alone, it would say
		// the file has no instructions.
		{"line over 64 KiB", "FROM postgres:16 AS " + strings.Repeat("a", 1<<16) + "\n", 1},
		{"line over 64 KiB after others", "FROM postgres:16\n# " + strings.Repeat("a", 1<<16), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("db/Dockerfile", []byte(tt.src), nil)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "db/Dockerfile" || pe.Msg == "" {
				t.Errorf("ParseError = %+v", pe)
			}
			if strings.Contains(tt.src, "FROM") && strings.Contains(pe.Msg, "no instructions") {
				t.Errorf("misleading message: %v", pe)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tt.line, pe)
			}
		})
	}
}

func TestIsDockerfile(t *testing.T) {
	for p, want := range map[string]bool{
		"Dockerfile": true, "db/Dockerfile": true, "Dockerfile.prod": true, "api.Dockerfile": true,
		"build/app.dockerfile": true, "Containerfile": true, "dockerfile": true,
		"Dockerfile.md/readme": false, "docs/Dockerfile-guide.md": false, "compose.yml": false, "Dockerfiles/README": false,
		"internal/dockerfile/dockerfile.go": false, "dockerfile_test.go": false, "Dockerfile.md": false, "Dockerfile.tmpl": false,
		"Dockerfile.j2": false, "Dockerfile.alpine": true, "Dockerfile.dev": true, "Containerfile.prod": true,
	} {
		if got := IsDockerfile(p); got != want {
			t.Errorf("IsDockerfile(%q) = %v, want %v", p, got, want)
		}
	}
}
