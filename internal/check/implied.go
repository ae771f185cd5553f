package check

import (
	"regexp"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

var (
	nameSep = regexp.MustCompile(`[-_./:]+`)
	osToken = regexp.MustCompile(`^(alpine(\d+(\.\d+)?)?|bookworm|bullseye|buster|stretch|jessie|trixie|jammy|focal|noble|bionic|ubi\d+|el\d+|distroless|debian\d*|ubuntu)$`)
)

// implied fills in the libc of a side whose name names no OS when the
// other side's name is the same plus an OS token, such as
// acme/postgres-12.6 → acme/postgres-12.6-alpine. Images named after the
// official ones follow their convention: no suffix is the Debian (glibc)
// default. The filled facts are marked as coming from the name, so every
// finding that uses them says so.
func implied(p facts.Pair) facts.Pair {
	if p.Base == nil || p.Head == nil {
		return p
	}
	b, h := p.Base.Identity, p.Head.Identity
	switch {
	case b.Libc.Family == "" && h.Libc.Family != "" && h.Weak(imageref.FactLibc) && sameButOS(b.Ref, h.Ref):
		p.Base = withDebianDefault(p.Base)
	case h.Libc.Family == "" && b.Libc.Family != "" && b.Weak(imageref.FactLibc) && sameButOS(h.Ref, b.Ref):
		p.Head = withDebianDefault(p.Head)
	}
	return p
}

// sameButOS reports whether plain's name is other's without its OS
// tokens, and other has one.
func sameButOS(plain, other imageref.Ref) bool {
	strip := func(r imageref.Ref) (string, bool) {
		var keep []string
		had := false
		for _, tok := range nameSep.Split(strings.ToLower(r.Path+":"+r.Tag), -1) {
			if osToken.MatchString(tok) {
				had = true
				continue
			}
			keep = append(keep, tok)
		}
		return strings.Join(keep, " "), had
	}
	p, pHas := strip(plain)
	o, oHas := strip(other)
	return !pHas && oHas && p == o && plain.Path != ""
}

func withDebianDefault(u *facts.ImageUse) *facts.ImageUse {
	cp := *u
	id := cp.Identity
	id.OS, id.Libc, id.Known, id.Floating = "debian", imageref.Libc{Family: "glibc"}, true, true
	id.Sources = withFact(id.Sources, id.Source, imageref.FactOS, imageref.SourceName)
	id.Sources = withFact(id.Sources, id.Source, imageref.FactLibc, imageref.SourceName)
	if id.Source == "" {
		id.Source = imageref.SourceName
	}
	id.Note = strings.TrimSpace(id.Note + " The name names no OS: by the official images' convention that is the Debian (glibc) default.")
	cp.Identity = id
	return &cp
}

func withFact(m map[string]string, base, fact, source string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	if source != base {
		out[fact] = source
	}
	return out
}
