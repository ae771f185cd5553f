package registry

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// parseOSRelease reads os-release(5): KEY=value lines, values optionally
// quoted.
func parseOSRelease(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), capReleaseFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = unquoteShell(strings.TrimSpace(v))
	}
	return out
}

func unquoteShell(v string) string {
	if len(v) >= 2 {
		switch q := v[0]; {
		case q == '\'' && v[len(v)-1] == '\'':
			return v[1 : len(v)-1]
		case q == '"' && v[len(v)-1] == '"':
			v = v[1 : len(v)-1]
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
					i++
				}
				b.WriteByte(v[i])
			}
			return b.String()
		}
	}
	return v
}

// osFamily maps os-release's ID to breakwater's OS names.
func osFamily(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	switch id {
	case "amzn":
		return "amazonlinux"
	default:
		return id
	}
}

// libcFamily is the C library an OS family is built on; "" when breakwater
// does not know the family.
func libcFamily(os string) string {
	switch os {
	case "debian", "ubuntu", "rhel", "amazonlinux":
		return "glibc"
	case "alpine":
		return "musl"
	}
	return ""
}

var debianCodenames = map[string]string{
	"7": "wheezy", "8": "jessie", "9": "stretch", "10": "buster",
	"11": "bullseye", "12": "bookworm", "13": "trixie", "14": "forky",
}

var (
	parenName  = regexp.MustCompile(`\(([a-z]+)\)`)
	majorMinor = regexp.MustCompile(`^(\d+)\.(\d+)`)
	leadingNum = regexp.MustCompile(`^(\d+)`)
	pgVersion  = regexp.MustCompile(`^\d+(?:\.\d+)*(?:beta\d+|rc\d+)?`)
	icuPackage = regexp.MustCompile(`^libicu(\d+)$`)
)

// release names an OS release the way the knowledge base does: Debian by
// codename, Ubuntu by version ("22.04"), Alpine by major.minor, RHEL by
// major, Amazon Linux by version ("2023").
func release(os string, osr map[string]string, alpineRelease, debianVersion string) string {
	switch os {
	case "debian":
		if c := osr["VERSION_CODENAME"]; c != "" {
			return c
		}
		if m := parenName.FindStringSubmatch(osr["VERSION"]); m != nil {
			return m[1]
		}
		if c := debianCodenames[leadingNum.FindString(osr["VERSION_ID"])]; c != "" {
			return c
		}
		dv := strings.TrimSpace(debianVersion)
		if c := debianCodenames[leadingNum.FindString(dv)]; c != "" {
			return c
		}
		if name, _, ok := strings.Cut(dv, "/"); ok && name != "" { // "trixie/sid"
			return name
		}
		return ""
	case "ubuntu":
		if v := majorMinor.FindString(osr["VERSION_ID"]); v != "" {
			return v
		}
		return osr["VERSION_CODENAME"]
	case "alpine":
		if v := majorMinor.FindString(strings.TrimSpace(alpineRelease)); v != "" {
			return v
		}
		return majorMinor.FindString(osr["VERSION_ID"])
	case "rhel":
		return leadingNum.FindString(osr["VERSION_ID"])
	case "amazonlinux":
		return osr["VERSION_ID"]
	}
	if c := osr["VERSION_CODENAME"]; c != "" {
		return c
	}
	return osr["VERSION_ID"]
}

// stanzas calls f with the fields of each blank-line separated stanza of a
// dpkg status file ("Package: libc6") or an apk installed db ("P:musl").
// Continuation lines are skipped. sep is ": " for dpkg and ":" for apk.
func stanzas(b []byte, sep string, f func(map[string]string)) {
	cur := map[string]string{}
	flush := func() {
		if len(cur) > 0 {
			f(cur)
			cur = map[string]string{}
		}
	}
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(string(line), sep)
		if !ok {
			continue
		}
		if _, seen := cur[k]; !seen {
			cur[k] = strings.TrimSpace(v)
		}
	}
	flush()
}

// parseDpkgStatus finds the glibc version (package libc6) and the ICU
// major (package libicuNN) among the installed packages.
func parseDpkgStatus(b []byte) (glibc, icu string) {
	best := 0
	stanzas(b, ":", func(p map[string]string) {
		if st, ok := p["Status"]; ok {
			if fs := strings.Fields(st); len(fs) == 0 || fs[len(fs)-1] != "installed" {
				return
			}
		}
		name := p["Package"]
		switch {
		case name == "libc6" && glibc == "":
			glibc = majorMinor.FindString(upstreamVersion(p["Version"]))
		case icuPackage.MatchString(name):
			n, _ := strconv.Atoi(icuPackage.FindStringSubmatch(name)[1])
			if n > best {
				best = n
			}
		}
	})
	if best > 0 {
		icu = strconv.Itoa(best)
	}
	return glibc, icu
}

// upstreamVersion strips a Debian version's epoch and revision:
// "1:2.36-9+deb12u4" is "2.36".
func upstreamVersion(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	return v
}

var apkRevision = regexp.MustCompile(`-r\d+$`)

// parseAPKInstalled finds the musl version ("1.2.5") and the ICU major
// (package icu-libs) in an apk installed db.
func parseAPKInstalled(b []byte) (musl, icu string) {
	stanzas(b, ":", func(p map[string]string) {
		switch p["P"] {
		case "musl":
			musl = apkRevision.ReplaceAllString(p["V"], "")
		case "icu-libs":
			icu = leadingNum.FindString(p["V"])
		}
	})
	return musl, icu
}

// parsePGEnv reads PG_MAJOR and PG_VERSION from an image config's Env.
func parsePGEnv(env []string) (imageref.PGMajor, string) {
	var major, version string
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		switch k {
		case "PG_MAJOR":
			major = strings.TrimSpace(v)
		case "PG_VERSION":
			version = strings.TrimSpace(v)
		}
	}
	if m, err := imageref.ParsePGMajor(major); err == nil && major != "" {
		return m, version
	}
	// Debian images spell PG_VERSION as the package version,
	// "16.4-1.pgdg120+2"; Alpine images as "16.4".
	if v := pgVersion.FindString(version); v != "" {
		if m, err := imageref.ParsePGMajor(v); err == nil {
			return m, version
		}
	}
	return 0, version
}
