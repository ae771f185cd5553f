// Package imageref parses container image references and tells, from an
// embedded knowledge base, what OS, libc, ICU and Postgres an image carries.
//
// The knowledge base (kb.yaml) is data with cited sources. A tag of a
// listed repository that the data does not cover comes back with Known
// false and a Note saying why. For a repository the data does not list,
// Identify reads what the reference's own name says (acme/postgres-12.6-
// alpine) and marks those facts with Source "name", a weak source that
// checks must name; a name that says nothing yields nothing.
package imageref

import (
	"fmt"
	"strconv"
	"strings"
)

// Ref is a parsed, normalized image reference.
type Ref struct {
	Raw    string // as written, after ARG expansion
	Name   string // fully qualified: docker.io/library/postgres
	Path   string // familiar path without domain for Docker Hub: "postgres", "postgis/postgis"; with domain otherwise: "ghcr.io/acme/pg"
	Tag    string // "" when absent (Docker then uses "latest")
	Digest string // "sha256:…" or ""
}

// String is the familiar form: path[:tag][@digest].
func (r Ref) String() string {
	s := r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Libc is the C library an image's userland is built on.
type Libc struct {
	// Family is "glibc" or "musl"; "none" for images that ship no C library
	// (distroless static); "" when unknown.
	Family string
	// Version is the glibc version such as "2.36", or the musl version when
	// the knowledge base has it; "" when unknown.
	Version string
}

// Identity is what breakwater knows about an image. Fields are zero when
// unknown; Known says whether OS and libc could be told at all.
type Identity struct {
	Ref   Ref
	Known bool // OS family and libc are known
	// OS is "debian", "ubuntu", "alpine", "rhel" or "amazonlinux".
	OS string
	// Release is "bookworm", "22.04", "3.20", "9", "2023". It is "" when
	// the tag floats over releases the knowledge base cannot pin down
	// (postgres:17-alpine): the OS family and libc are still known then.
	Release string
	Libc    Libc
	// ICU is the ICU major of the OS release, e.g. "72": the library
	// Postgres links for ICU collations. "" when unknown or not shipped.
	ICU string
	// PostgresMajor is 0 when the image is not a Postgres image or the
	// major is unknown. See PGMajor for the encoding.
	PostgresMajor PGMajor
	// PostgresMajorFloating is set when the tag does not pin the Postgres
	// major (postgres:latest, postgres:alpine, postgres:bookworm):
	// PostgresMajor is then the major the tag carries today.
	PostgresMajorFloating bool
	Database              bool // the image is of the Postgres family (postgres, postgis, timescaledb…)
	Floating              bool // the tag does not pin the OS release
	// Note explains a floating resolution, e.g. "postgres:17 does not name
	// its Debian release; it follows the postgres image's Debian default:
	// bookworm until 2025-08, trixie since", or why the image is unknown.
	Note string
	// Source is where the facts came from (one of the Source* constants);
	// "" when nothing is known. Sources overrides it per fact when facts
	// came from different places: a stage's OS from its FROM image (kb),
	// its Postgres major from the package it installs (package).
	Source  string
	Sources map[string]string // keys: FactOS, FactLibc, FactICU, FactPostgres
}

// Where a fact came from, weakest last.
const (
	SourceRegistry   = "registry"   // read from the image itself
	SourceConfig     = "config"     // declared by the user in .breakwater.yml
	SourceDockerfile = "dockerfile" // a Dockerfile in this repository builds the image
	SourcePackage    = "package"    // a package install in a RUN line
	SourceKB         = "kb"         // the knowledge base, by image and tag
	SourceName       = "name"       // inferred from the reference's name
)

// The facts an Identity carries, as keys of Sources.
const (
	FactOS       = "os" // OS family and release
	FactLibc     = "libc"
	FactICU      = "icu"
	FactPostgres = "postgres" // Postgres major
)

// SourceOf says where one fact came from.
func (id Identity) SourceOf(fact string) string {
	if s, ok := id.Sources[fact]; ok {
		return s
	}
	return id.Source
}

// Weak reports whether a fact rests only on the reference's name, which
// a check must say when it relies on it.
func (id Identity) Weak(fact string) bool { return id.SourceOf(fact) == SourceName }

// PGMajor is a Postgres major version, encoded like Postgres's own
// server_version_num divided by 100: 9.6 is 906, 17 is 1700.
//
// Before 10 the major was two numbers (9.5 to 9.6 needs pg_upgrade), so a
// plain int major cannot hold it; this encoding keeps < and > meaning
// "older" and "newer" across the 9.6 to 10 change. Print it with %s or %v
// (String gives "9.6", "17"); %d prints the encoded number. 0 is unknown.
type PGMajor int

// String gives the familiar form, "9.6" or "17"; "" for 0.
func (m PGMajor) String() string {
	switch {
	case m <= 0:
		return ""
	case m < 1000:
		return fmt.Sprintf("%d.%d", m/100, m%100)
	default:
		return strconv.Itoa(int(m) / 100)
	}
}

// MajorString prints a major as Postgres and image tags spell it ("9.6",
// "17"); it is m.String(), for callers that format a field directly.
func MajorString(m PGMajor) string { return m.String() }

// ParsePGMajor reads a Postgres major ("9.6", "17") or a full version
// ("9.6.24", "17.2", "18beta3") and returns its major.
func ParsePGMajor(s string) (PGMajor, error) {
	m, _, _, err := parsePGVersion(s)
	return m, err
}

// parsePGVersion splits a Postgres version into its major, its numeric
// parts and whether it is a pre-release (beta, rc).
func parsePGVersion(s string) (PGMajor, []int, bool, error) {
	v := s
	pre := false
	if i := strings.IndexAny(v, "br"); i >= 0 {
		num, ok := strings.CutPrefix(v[i:], "beta")
		if !ok {
			num, ok = strings.CutPrefix(v[i:], "rc")
		}
		if !ok || !isDigits(num) {
			return 0, nil, false, fmt.Errorf("invalid Postgres version %q", s)
		}
		v, pre = v[:i], true
	}
	parts, err := parseDotted(v)
	if err != nil || len(parts) > 3 {
		return 0, nil, false, fmt.Errorf("invalid Postgres version %q", s)
	}
	switch {
	case parts[0] >= 10:
		if len(parts) > 2 {
			return 0, nil, false, fmt.Errorf("invalid Postgres version %q: since 10 a version is major.minor", s)
		}
		// A bound far past any release; without it, major*100 overflows
		// into a negative PGMajor for a tag like 92270000000000000.
		if parts[0] > 9999 {
			return 0, nil, false, fmt.Errorf("invalid Postgres version %q: no Postgres major is that large", s)
		}
		return PGMajor(parts[0] * 100), parts, pre, nil
	case len(parts) >= 2 && parts[0] > 0 && parts[1] < 100:
		return PGMajor(parts[0]*100 + parts[1]), parts, pre, nil
	default:
		return 0, nil, false, fmt.Errorf("invalid Postgres version %q: before 10 a major is two numbers, such as 9.6", s)
	}
}

// parseDotted reads "2.36" or "9.6.24" into numbers.
func parseDotted(s string) ([]int, error) {
	fields := strings.Split(s, ".")
	out := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || !isDigits(f) {
			return nil, fmt.Errorf("invalid version %q", s)
		}
		out[i] = n
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compareVersions orders dotted versions numerically; a missing part is 0.
func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}
