package imageref

import (
	"fmt"
	"strings"
)

// Identify tells what r carries, from the knowledge base. An image or tag
// the knowledge base does not cover is Known false with a Note saying why;
// Database is still set when the repository is of the Postgres family, so
// the caller can report that it could not check it. For a repository the
// knowledge base does not list at all, the facts the reference's name gives
// are filled in with Source "name" (see infer.go).
func (kb *KB) Identify(r Ref) Identity {
	id := Identity{Ref: r}
	img, nameGroups := kb.findImage(r.Name)
	if img == nil {
		id.Note = fmt.Sprintf("%s is not in breakwater's knowledge base", r.Path)
		return kb.infer(id)
	}
	id.Database, id.Source = img.database, SourceKB
	tag := r.Tag
	if tag == "" {
		tag = "latest"
	}
	shown := r.Path + ":" + tag
	if r.Tag == "" && r.Digest != "" && !img.namePinsOS {
		// The digest says which image, not which tag it was taken from, and
		// the tag is what the knowledge base keys on.
		id.Note = fmt.Sprintf("%s is pinned by digest alone; breakwater cannot tell which tag it was taken from", r.String())
		return id
	}
	if len(img.rules) == 0 {
		id.Note = fmt.Sprintf("breakwater knows %s is a database image but not the OS of any of its tags", r.Path)
		return id
	}
	reason := ""
	for _, ru := range img.rules {
		m := ru.re.FindStringSubmatch(r.Tag)
		if m == nil {
			continue
		}
		groups := map[string]string{}
		for k, v := range nameGroups {
			groups[k] = v
		}
		for i, n := range ru.re.SubexpNames() {
			if n != "" && m[i] != "" {
				groups[n] = m[i]
			}
		}
		got, why, ok := kb.resolve(img, ru, groups, r, shown)
		if ok {
			return got
		}
		if reason == "" {
			reason = why
		}
	}
	if reason == "" {
		reason = fmt.Sprintf("tag %q of %s is not in breakwater's knowledge base", tag, r.Path)
	}
	id.Note = reason
	return id
}

func (kb *KB) findImage(name string) (*image, map[string]string) {
	for _, img := range kb.images {
		for _, re := range img.names {
			m := re.FindStringSubmatch(name)
			if m == nil {
				continue
			}
			groups := map[string]string{}
			for i, n := range re.SubexpNames() {
				if n != "" && m[i] != "" {
					groups[n] = m[i]
				}
			}
			return img, groups
		}
	}
	return nil, nil
}

// resolve applies one matching rule. It fails quietly (ok false, no reason)
// when a captured release is not one the distro has, so that a later rule
// can take the tag, and with a reason when the tag is understood but its
// facts are not known.
func (kb *KB) resolve(img *image, ru *rule, g map[string]string, r Ref, shown string) (Identity, string, bool) {
	id := Identity{Ref: r, Database: img.database, Source: SourceKB}
	var version []int
	var pre bool
	var notes []string
	switch ru.pg {
	case "tag":
		v := g["pg"]
		if a, ok := img.aliases[v]; ok {
			v = a
		}
		m, parts, p, err := parsePGVersion(v)
		if err != nil || kb.majors[m] == nil {
			return id, fmt.Sprintf("%s names Postgres %s, which breakwater's knowledge base does not list", shown, g["pg"]), false
		}
		id.PostgresMajor, version, pre = m, parts, p
	case "latest":
		steps := make([]string, len(img.latest))
		for i, s := range img.latest {
			switch {
			case i < len(img.latest)-1:
				steps[i] = fmt.Sprintf("%s until %s", s.major, s.until)
			default:
				steps[i] = fmt.Sprintf("%s since", s.major)
			}
		}
		id.PostgresMajor = img.latest[len(img.latest)-1].major
		id.PostgresMajorFloating = true
		notes = append(notes, fmt.Sprintf("%s follows the newest Postgres major: %s", shown, strings.Join(steps, ", ")))
	}
	if ru.pgMin != 0 && id.PostgresMajor < ru.pgMin {
		return id, fmt.Sprintf("breakwater does not know the OS of %s: builds of Postgres %s in this image predate the base it knows", shown, id.PostgresMajor), false
	}

	d := kb.distros[ru.os]
	subject := shown
	if len(notes) > 0 {
		subject = "it"
	}
	var rel *release
	switch {
	case ru.release != "":
		rel = d.byName[ru.release]
	case g["release"] != "":
		if rel = d.byName[g["release"]]; rel == nil {
			return id, "", false
		}
	case ru.floating == "default":
		var note, why string
		rel, note, why = kb.defaultRelease(img, id.PostgresMajor, version, pre, shown, subject)
		if rel == nil {
			return id, why, false
		}
		notes = append(notes, note)
	case ru.floating == "history":
		rel = d.byName[ru.history[len(ru.history)-1].release]
		notes = append(notes, fmt.Sprintf("%s does not name its %s release; it follows %s: %s", subject, d.title, ru.what, historyText(ru.history, false)))
	}

	id.OS, id.Known, id.Floating = d.os, true, ru.floating != ""
	id.Libc.Family = d.libc
	if ru.libc != "" {
		id.Libc.Family = ru.libc
	}
	if rel != nil {
		id.Release, id.ICU = rel.name, rel.icu
		switch id.Libc.Family {
		case "glibc":
			id.Libc.Version = rel.glibc
		case "musl":
			id.Libc.Version = rel.musl
		}
	}
	if id.Libc.Family == "none" {
		// Nothing links ICU or sorts with a libc in an image without a libc.
		id.Libc.Version, id.ICU = "", ""
	}
	if ru.floating == "release" {
		libc := "the C library is " + id.Libc.Family
		if id.Libc.Family == "none" {
			libc = "it ships no C library"
		}
		notes = append(notes, fmt.Sprintf("%s does not name its %s release; whichever it is, %s", subject, d.title, libc))
	}
	if ru.note != "" {
		notes = append(notes, ru.note)
	}
	id.Note = strings.Join(notes, "; ")
	return id, "", true
}

// defaultRelease resolves a Postgres tag that names no OS release through
// the image's per-major default history. A major tag carries the newest
// step (or the last before EOL); a minor tag is frozen at the step of its
// last build, which is the last step whose first minor it has reached.
func (kb *KB) defaultRelease(img *image, m PGMajor, version []int, pre bool, shown, subject string) (*release, string, string) {
	d := kb.distros[img.defaults.os]
	md := img.defaults.majors[m]
	if md == nil {
		return nil, "", fmt.Sprintf("breakwater does not know which %s release %s is built on", d.title, shown)
	}
	if pre {
		return nil, "", fmt.Sprintf("%s is a pre-release tag; breakwater does not track which %s release its last build used", shown, d.title)
	}
	minorTag := len(version) > majorLen(m)
	if minorTag && md.bareLast != nil && compareVersions(version, md.bareLast) > 0 {
		return nil, "", fmt.Sprintf("%s does not exist: tags of Postgres %s without an OS suffix stopped at %s", shown, m, joinInts(md.bareLast))
	}
	what := img.defaults.what
	if minorTag {
		at := 0
		for i, s := range md.history {
			if s.from == nil || compareVersions(version, s.from) >= 0 {
				at = i
			}
		}
		rel := d.byName[md.history[at].release]
		return rel, fmt.Sprintf("%s does not name its %s release; a minor tag is frozen at its last build, which used %s (%s: %s)",
			subject, d.title, rel.name, what, historyText(md.history, kb.majors[m].eol != "")), ""
	}
	rel := d.byName[md.history[len(md.history)-1].release]
	switch {
	case md.note != "":
		return rel, md.note, ""
	case kb.majors[m].eol != "":
		return rel, fmt.Sprintf("%s does not name its %s release; it followed %s until its last build (Postgres %s reached EOL in %s): %s",
			subject, d.title, what, m, kb.majors[m].eol, historyText(md.history, true)), ""
	default:
		return rel, fmt.Sprintf("%s does not name its %s release; it follows %s: %s", subject, d.title, what, historyText(md.history, false)), ""
	}
}

// majorLen is how many version numbers make up the major: two before 10.
func majorLen(m PGMajor) int {
	if m < 1000 {
		return 2
	}
	return 1
}

// historyText reads "bookworm until 2025-08, trixie since", or with frozen
// (no longer rebuilt) "buster until 2021-09, then bookworm".
func historyText(steps []step, frozen bool) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		switch {
		case i < len(steps)-1:
			parts[i] = s.release + " until " + s.until
		case frozen && len(steps) == 1:
			parts[i] = s.release
		case frozen:
			parts[i] = "then " + s.release
		case len(steps) == 1:
			parts[i] = s.release + " so far"
		default:
			parts[i] = s.release + " since"
		}
	}
	return strings.Join(parts, ", ")
}
