package imageref

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Name inference: what a reference's own name says about the image, for
// repositories the knowledge base does not list (acme/postgres-12.6-alpine,
// acme/pgsql:18-11-26_9.4_abc). Every fact it gives has Source "name",
// which checks must call weak (Identity.Weak).
//
// The name is cut into whole tokens at / : - _ and . (a dotted number stays
// one token: "12.6", "alpine3.20"); the registry host is dropped and the tag
// is lowercased. A date in the tag (18-11-26, 2021-05-06) is never a version.
//
// Database. The image is a Postgres database when its repository path (not
// its tag) holds a Postgres word: postgres, postgresql, pgsql, postgis,
// timescaledb or pgvector, alone or with a version glued on (postgresql15),
// or pg with a version (pg14, pg_14, pg-14, or a repository named pg whose
// tag starts with one: pg:17). pg alone, pgbouncer, pg_dump or mypostgres
// are not Postgres words. A tool word in the last path component (exporter,
// bouncer, pgadmin, backup, operator, pgpool, proxy, client, cli, migrate,
// flyway, liquibase, dump, tools, upgrade…; see toolWords) makes it a tool
// that talks to Postgres, not a database: postgres_exporter, postgres-backup,
// postgres-operator, pgvector-tools. A Postgres word only in the tag
// (acme/api:1.4-pg15, acme/app:pg-compatible) says what an application is
// built for, so it gives nothing: a Postgres major on an image that is not
// a database would read as a database upgrade.
//
// Postgres major, of a database only, first found of:
//  1. a version glued to or right after a Postgres word in the path, the
//     first tag token counting as "right after" the path's last token
//     (postgres-12.6, postgresql15, pg_14, acme/postgres:12.6);
//  2. the same in the tag (acme/postgres:pg15-alpine, timescaledb:2.11-pg15);
//  3. a version standing alone in the tag (acme/pgsql:18-11-26_9.4_abc).
//
// A version is 9.x (8.0–8.4, 9.0–9.6: two numbers, more allowed: 9.6.24) or
// N[.M…] for 10–30; anything else (95244, 3.4, 2.11, 99) is not a Postgres
// version. Glued to a Postgres word, two digits 80–84 and 90–96 read as the
// PGDG package names do (postgresql96 is 9.6). When one step finds two
// different majors, the major is unknown.
//
// OS, for any image: alpine (Alpine, musl; alpine3.20 or alpine-3.20 pins
// 3.20), a Debian or Ubuntu release codename the knowledge base lists
// (bookworm, bullseye, buster, stretch, trixie, jessie; jammy, focal, noble,
// bionic), debian/ubuntu with a release number (debian-12, ubuntu22.04),
// ubi8/ubi9/el8/el9/rhel9 (RHEL), and distroless (Debian; its C library is
// glibc or none, so unknown unless the name also says static). glibc, musl
// and ICU versions come from the knowledge base's release data. Two OS
// families in one name give no OS; two releases of one family give the
// family only.
//
// Known is OS and libc known; Floating is OS known and release not pinned.
// Nothing is inferred for a repository the knowledge base lists: its tag
// rules are the facts, and a tag they do not cover stays unknown.

// postgresWords name a Postgres-family image on their own.
var postgresWords = map[string]bool{
	"postgres": true, "postgresql": true, "pgsql": true,
	"postgis": true, "timescaledb": true, "pgvector": true,
}

// toolWords, in an image's own name (its last path component), make it a
// tool that works with Postgres rather than a database: exporters, poolers,
// admin UIs, backup tools, operators, proxies, clients and migration tools.
// A trailing number is ignored (pgadmin4, pgpool2).
var toolWords = map[string]bool{
	"exporter": true, "exporters": true, "bouncer": true, "pgbouncer": true, "pgcat": true,
	"pgadmin": true, "admin": true, "pgweb": true, "backup": true, "backups": true,
	"pgbackrest": true, "barman": true, "operator": true, "pgpool": true, "proxy": true,
	"client": true, "cli": true, "migrate": true, "migration": true, "migrations": true,
	"flyway": true, "liquibase": true, "dump": true, "tools": true, "tool": true,
	"upgrade": true, "init": true,
}

var (
	// gluedRe is a word with a version glued on: postgresql15, pg14.2, alpine3.20.
	gluedRe = regexp.MustCompile(`^([a-z]+)(\d+(?:\.\d+)*)$`)
	// versionRe is a token that is only a version.
	versionRe = regexp.MustCompile(`^\d+(?:\.\d+)*$`)
	// dateRe finds yy-mm-dd and yyyy-mm-dd.
	dateRe       = regexp.MustCompile(`(?:^|[^0-9.])((?:\d{4}|\d{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?:$|[^0-9])`)
	alpineRelRe  = regexp.MustCompile(`^3\.\d+$`)
	codenameRe   = regexp.MustCompile(`^[a-z]+$`)
	nameSplitSep = "/:-_"
)

type nameToken struct {
	text        string
	word, ver   string // glued split: "postgresql15" is postgresql and 15; a plain word has no ver
	tag         bool   // in the tag, not the repository path
	last        bool   // in the last path component
	date, isVer bool   // part of a date; a version standing alone
}

// nameTokens cuts a repository path (without registry host) and a tag into
// whole tokens, in order.
func nameTokens(path, tag string) []nameToken {
	var out []nameToken
	comps := strings.Split(path, "/")
	for i, c := range comps {
		out = append(out, lexName(c, false, i == len(comps)-1)...)
	}
	if tag != "" {
		out = append(out, lexName(strings.ToLower(tag), true, false)...)
	}
	return out
}

func lexName(s string, tag, last bool) []nameToken {
	var dates [][2]int
	for _, m := range dateRe.FindAllStringSubmatchIndex(s, -1) {
		dates = append(dates, [2]int{m[2], m[3]})
	}
	inDate := func(at int) bool {
		for _, d := range dates {
			if at >= d[0] && at < d[1] {
				return true
			}
		}
		return false
	}
	var out []nameToken
	add := func(text string, at int) {
		if text == "" {
			return
		}
		t := nameToken{text: text, word: text, tag: tag, last: last, date: inDate(at)}
		if m := gluedRe.FindStringSubmatch(text); m != nil {
			t.word, t.ver = m[1], m[2]
		}
		t.isVer = !t.date && versionRe.MatchString(text)
		out = append(out, t)
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !strings.ContainsRune(nameSplitSep, rune(s[i])) {
			continue
		}
		seg := s[start:i]
		if gluedRe.MatchString(seg) || versionRe.MatchString(seg) {
			add(seg, start)
		} else {
			at := start
			for _, p := range strings.Split(seg, ".") {
				add(p, at)
				at += len(p) + 1
			}
		}
		start = i + 1
	}
	return out
}

// nameMajor reads a Postgres major from a version in a name; 0 when it is
// not one. glued allows the PGDG two-digit form (96 is 9.6).
func nameMajor(v string, glued bool) PGMajor {
	if v == "" || v[0] == '0' {
		return 0
	}
	parts, err := parseDotted(v)
	if err != nil {
		return 0
	}
	n := parts[0]
	switch {
	case glued && len(parts) == 1 && ((n >= 80 && n <= 84) || (n >= 90 && n <= 96)):
		return PGMajor(n/10*100 + n%10)
	case n >= 10 && n <= 30:
		return PGMajor(n * 100)
	case len(parts) >= 2 && ((n == 8 && parts[1] <= 4) || (n == 9 && parts[1] <= 6)):
		return PGMajor(n*100 + parts[1])
	}
	return 0
}

// nameRepoPath is the repository path without its registry host.
func nameRepoPath(r Ref) string {
	n := r.Name
	if n == "" {
		n = r.Path
	}
	if i := strings.IndexByte(n, '/'); i >= 0 {
		host := n[:i]
		if strings.ContainsAny(host, ".:") || host == "localhost" {
			n = n[i+1:]
		}
	}
	return n
}

// nameInference is what a name says.
type nameInference struct {
	database bool
	tool     string // the tool word that kept a Postgres name from being a database
	major    PGMajor
	majors   []PGMajor // more than one found at the deciding step

	os, release string
	rel         *release
	libc        string
	oses        []string // more than one OS family named
	releases    []string // more than one release of the family named
	distroless  bool
}

// inferName reads r's name. It uses the knowledge base only for distro
// release data (codenames, glibc, musl and ICU versions).
func (kb *KB) inferName(r Ref) nameInference {
	toks := nameTokens(nameRepoPath(r), r.Tag)
	var in nameInference

	// attached returns the version glued to or right after a Postgres word
	// at toks[i] ("" if none), and whether the token is a Postgres word.
	attached := func(i int) (ver string, glued, family bool) {
		t := toks[i]
		if t.date {
			return "", false, false
		}
		if t.ver != "" && (postgresWords[t.word] || t.word == "pg") {
			return t.ver, true, true
		}
		if postgresWords[t.text] || t.text == "pg" {
			if i+1 < len(toks) && toks[i+1].isVer && (toks[i+1].tag == t.tag || t.last) {
				return toks[i+1].text, false, true
			}
			return "", false, t.text != "pg"
		}
		return "", false, false
	}

	var pathMajors, tagMajors, bareMajors []PGMajor
	addMajor := func(list *[]PGMajor, m PGMajor) {
		if m != 0 && !slices.Contains(*list, m) {
			*list = append(*list, m)
		}
	}
	for i, t := range toks {
		ver, glued, family := attached(i)
		if !t.tag && family {
			in.database = true
		}
		if !t.tag && t.last && toolWords[t.word] {
			in.tool = t.word
		}
		if ver != "" {
			if t.tag {
				addMajor(&tagMajors, nameMajor(ver, glued))
			} else {
				addMajor(&pathMajors, nameMajor(ver, glued))
			}
		}
		if t.tag && t.isVer {
			addMajor(&bareMajors, nameMajor(t.text, false))
		}
	}
	if in.tool != "" && in.database {
		in.database = false
	} else {
		in.tool = ""
	}
	if in.database {
		for _, ms := range [][]PGMajor{pathMajors, tagMajors, bareMajors} {
			if len(ms) == 1 {
				in.major = ms[0]
			}
			if len(ms) > 0 {
				if len(ms) > 1 {
					in.majors = ms
				}
				break
			}
		}
	}

	kb.inferOS(toks, &in)
	return in
}

// inferOS reads the OS tokens of a name into in.
func (kb *KB) inferOS(toks []nameToken, in *nameInference) {
	type hit struct {
		os  string
		rel *release
		as  string // release as named, when the knowledge base does not list it
	}
	var hits []hit
	static := false
	lookup := func(os, v string) *release {
		if d := kb.distros[os]; d != nil && v != "" {
			return d.byName[v]
		}
		return nil
	}
	for i, t := range toks {
		if t.date {
			continue
		}
		ver := t.ver
		if ver == "" && t.word == t.text && i+1 < len(toks) && toks[i+1].isVer {
			ver = toks[i+1].text
		}
		switch t.word {
		case "alpine":
			h := hit{os: "alpine"}
			if alpineRelRe.MatchString(ver) {
				h.rel, h.as = lookup("alpine", ver), ver
			}
			hits = append(hits, h)
		case "debian", "ubuntu":
			hits = append(hits, hit{os: t.word, rel: lookup(t.word, ver)})
		case "rhel", "ubi", "el":
			rel := lookup("rhel", ver)
			if t.word == "el" && rel == nil {
				continue // el is too common a word to mean RHEL without a release
			}
			hits = append(hits, hit{os: "rhel", rel: rel})
		case "distroless":
			in.distroless = true
			hits = append(hits, hit{os: "debian"})
		case "static":
			static = true
		default:
			if t.ver != "" || !codenameRe.MatchString(t.text) {
				continue
			}
			for _, os := range []string{"debian", "ubuntu"} {
				if rel := lookup(os, t.text); rel != nil {
					hits = append(hits, hit{os: os, rel: rel})
				}
			}
		}
	}
	for _, h := range hits {
		if !slices.Contains(in.oses, h.os) {
			in.oses = append(in.oses, h.os)
		}
	}
	if len(in.oses) != 1 {
		if len(in.oses) == 0 {
			in.oses = nil
		}
		return
	}
	in.os, in.oses = in.oses[0], nil
	for _, h := range hits {
		name := h.as
		if h.rel != nil {
			name = h.rel.name
		}
		if name != "" && !slices.Contains(in.releases, name) {
			in.releases = append(in.releases, name)
			in.rel = h.rel
		}
	}
	if len(in.releases) == 1 {
		in.release, in.releases = in.releases[0], nil
	} else {
		in.rel = nil
		if len(in.releases) == 0 {
			in.releases = nil
		}
	}
	if d := kb.distros[in.os]; d != nil {
		in.libc = d.libc
	}
	if in.distroless {
		in.libc = ""
		if static {
			in.libc = "none"
		}
	}
}

// infer fills an identity the knowledge base could not give (its
// repository is not listed) from the reference's name. It returns id
// unchanged when the name says nothing.
func (kb *KB) infer(id Identity) Identity {
	in := kb.inferName(id.Ref)
	if !in.database && in.os == "" {
		return id
	}
	id.Source, id.Database, id.PostgresMajor = SourceName, in.database, in.major
	var facts, caveats []string
	switch {
	case in.database && in.major != 0:
		facts = append(facts, "Postgres "+in.major.String())
	case in.database && len(in.majors) > 1:
		ms := make([]string, len(in.majors))
		for i, m := range in.majors {
			ms[i] = m.String()
		}
		facts = append(facts, "a Postgres image")
		caveats = append(caveats, "it names more than one Postgres version ("+strings.Join(ms, ", ")+"), so the major is unknown")
	case in.database:
		facts = append(facts, "a Postgres image")
		caveats = append(caveats, "it does not name the Postgres major")
	case in.tool != "":
		facts = append(facts, fmt.Sprintf("not a database (%q names a tool)", in.tool))
	}
	if in.os != "" {
		id.OS, id.Release, id.Libc.Family = in.os, in.release, in.libc
		if in.rel != nil {
			switch in.libc {
			case "glibc":
				id.Libc.Version = in.rel.glibc
			case "musl":
				id.Libc.Version = in.rel.musl
			}
			if in.libc != "none" && !in.distroless {
				id.ICU = in.rel.icu
			}
		}
		id.Known = id.Libc.Family != ""
		id.Floating = id.Release == ""
		facts = append(facts, kb.describeInferredOS(id))
		title := kb.osTitle(in.os)
		switch {
		case len(in.releases) > 1:
			caveats = append(caveats, fmt.Sprintf("it names more than one %s release (%s), so the release is unknown", title, strings.Join(in.releases, ", ")))
		case id.Floating:
			caveats = append(caveats, fmt.Sprintf("the name does not pin the %s release", title))
		}
		if in.distroless && in.libc == "" {
			caveats = append(caveats, "distroless images ship glibc or, when static, no C library, and the name does not say which")
		}
	} else if len(in.oses) > 1 {
		caveats = append(caveats, "it names more than one OS ("+strings.Join(in.oses, ", ")+"), so the OS is unknown")
	} else {
		caveats = append(caveats, "it names no OS")
	}
	shown := id.Ref.Path
	if id.Ref.Tag != "" {
		shown += ":" + id.Ref.Tag
	}
	note := fmt.Sprintf("inferred from the name %s: %s", shown, strings.Join(facts, ", "))
	if len(caveats) > 0 {
		note += "; " + strings.Join(caveats, "; ")
	}
	if id.Note != "" {
		note = id.Note + "; " + note
	}
	id.Note = note
	return id
}

func (kb *KB) osTitle(os string) string {
	if d := kb.distros[os]; d != nil {
		return d.title
	}
	return os
}

// describeInferredOS reads "Debian bookworm (glibc 2.36, ICU 72)" or
// "Alpine (musl)".
func (kb *KB) describeInferredOS(id Identity) string {
	s := kb.osTitle(id.OS)
	if id.Release != "" {
		s += " " + id.Release
	}
	var in []string
	switch id.Libc.Family {
	case "":
		in = append(in, "C library unknown")
	case "none":
		in = append(in, "no C library")
	default:
		in = append(in, strings.TrimSpace(id.Libc.Family+" "+id.Libc.Version))
	}
	if id.ICU != "" {
		in = append(in, "ICU "+id.ICU)
	}
	return s + " (" + strings.Join(in, ", ") + ")"
}
