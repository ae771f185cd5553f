package dockerfile

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary Dockerfiles and build args to Parse. It must
// not panic or stall; it fails only with a *ParseError for the file, on a
// line of the input or 0; and what it returns is the same on every call,
// with every use on a line of the input and its stage links in range.
// args holds one NAME=VALUE build arg a line.
func FuzzParse(f *testing.F) {
	for _, s := range []struct{ src, args string }{
		{"FROM postgres:11\n", ""},
		{"# syntax=docker/dockerfile:1\nARG PG_MAJOR=16\nARG VARIANT=alpine\n\nFROM postgres:${PG_MAJOR}-$VARIANT\n", ""},
		{"ARG PG_MAJOR=16\nFROM postgres:${PG_MAJOR}\n", "PG_MAJOR=17"},
		{"ARG PG=15\nARG BASE=postgres:${PG}-bookworm\nFROM $BASE\n", ""},
		{"ARG TAG\nFROM postgres:${TAG:-14}\nFROM postgres:${TAG:+x}${TAG?}\n", "TAG="},
		{"FROM alpine:3.19\nARG X=1\nFROM postgres:$X\n", ""},
		{"FROM --platform=$BUILDPLATFORM golang:1.22-bookworm AS build\nRUN go build\nFROM build AS test\nFROM scratch AS final\nCOPY --from=build /app /app\n", ""},
		{"FROM debian:bookworm AS Base\nFROM base\n", ""},
		{"FROM debian:bookworm\nRUN apt-get update && apt-get install -y postgresql-15 && rm -rf /var/lib/apt/lists/*\n", ""},
		{"ARG PG_MAJOR=16\nFROM alpine:3.19\nARG PG_MAJOR\nENV V=$PG_MAJOR\nRUN apk add --no-cache postgresql${V}=16.2-r0 'postgresql96-server'\n", ""},
		{"FROM ubuntu:22.04 AS os\nFROM os AS db\nENTRYPOINT [\"/usr/lib/postgresql/14/bin/postgres\", \"-D\", \"/data\"]\n", ""},
		{"# escape=`\nARG V=13\nFROM postgres:${V} `\n  AS db\n", ""},
		{"FROM postgres:16\n\nFROM\n", ""},
		{"FROMM postgres:17\n", ""},
		{"# escape=x\nFROM postgres:16\n", ""},
		{"FROM postgres:${V:?need V}\n", ""},
		{"FROM postgres:${V\n", ""},
		{"ARG A=$B B=$A\nFROM $A$B${A}x\\\n  AS a\nRUN <<EOF\napk add postgresql\nEOF\n", "B=$A"},
	} {
		f.Add([]byte(s.src), s.args)
	}
	f.Fuzz(func(t *testing.T, src []byte, args string) {
		buildArgs := map[string]string{}
		for _, l := range strings.Split(args, "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				buildArgs[k] = v
			}
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		start := time.Now()
		uses, err := Parse("Dockerfile", src, buildArgs)
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("Parse took %v on %d bytes", d, len(src))
		}
		again, err2 := Parse("Dockerfile", src, buildArgs)
		if !reflect.DeepEqual(uses, again) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Parse is not deterministic:\n%+v, %v\n%+v, %v", uses, err, again, err2)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T, want a *ParseError: %v", err, err)
			}
			if pe.File != "Dockerfile" || pe.Msg == "" || pe.Line < 0 || pe.Line > lines {
				t.Fatalf("ParseError %+v: want file Dockerfile, a message and a line in 0..%d", pe, lines)
			}
			if uses != nil {
				t.Fatalf("uses %+v alongside an error", uses)
			}
			return
		}
		if len(uses) == 0 {
			t.Fatal("no uses and no error")
		}
		for i, u := range uses {
			switch {
			case u.File != "Dockerfile" || u.Index != i:
				t.Fatalf("use %d: File %q, Index %d", i, u.File, u.Index)
			case u.Line < 1 || u.Line > lines:
				t.Fatalf("use %d: line %d outside 1..%d", i, u.Line, lines)
			case u.Last != (i == len(uses)-1):
				t.Fatalf("use %d of %d: Last = %v", i, len(uses), u.Last)
			case u.StageRef && (u.Parent < 0 || u.Parent >= i) || !u.StageRef && u.Parent != -1:
				t.Fatalf("use %d: StageRef %v, Parent %d", i, u.StageRef, u.Parent)
			case len(u.Unresolved) > 0 && u.Image != "":
				t.Fatalf("use %d: Image %q with unresolved %q", i, u.Image, u.Unresolved)
			case !slices.IsSorted(u.Unresolved) || len(slices.Compact(slices.Clone(u.Unresolved))) != len(u.Unresolved):
				t.Fatalf("use %d: Unresolved %q not sorted and unique", i, u.Unresolved)
			case u.Scratch != (u.Image == "scratch"):
				t.Fatalf("use %d: Scratch %v for %q", i, u.Scratch, u.Image)
			case len(u.Installs) > 0 && !u.RunsPostgres:
				t.Fatalf("use %d: installs %+v but not RunsPostgres", i, u.Installs)
			}
		}
	})
}

// TestParseErrorStable pins the fix for what FuzzParse found: "Cy" is as
// close to CMD as to COPY, and buildkit's hint named either at random.
func TestParseErrorStable(t *testing.T) {
	var first string
	for i := range 20 {
		_, err := Parse("Dockerfile", []byte("FROM postgres:16\nCy\n"), nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 2 {
			t.Fatalf("err = %v, want a *ParseError on line 2", err)
		}
		if i == 0 {
			first = pe.Msg
		}
		if pe.Msg != first || strings.Contains(pe.Msg, "did you mean") {
			t.Fatalf("message %q, first %q: want one message without a guess", pe.Msg, first)
		}
	}
}
