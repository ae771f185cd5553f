package imageref

import "strings"

// CollationChange is one way text may sort differently after an image change.
type CollationChange struct {
	Kind     string // "libc-family", "glibc" or "icu"
	From, To string // "glibc"/"musl" for libc-family, versions ("2.36", ICU "72") otherwise
	// Boundary names the known collation break crossed, e.g. "glibc 2.28";
	// "" when the change crosses none the knowledge base lists.
	Boundary string
}

// CollationChanges is Default().CollationChanges.
func CollationChanges(from, to Identity) []CollationChange {
	return Default().CollationChanges(from, to)
}

// CollationChanges lists what changes the sort order of text between two
// images: a move between glibc and musl, a glibc version change (with the
// boundary it crosses), an ICU major change. A fact unknown on either side
// yields nothing for that fact. An image without a C library (distroless
// static) runs no database, so moving to or from one is no collation change.
func (kb *KB) CollationChanges(from, to Identity) []CollationChange {
	var out []CollationChange
	fl, tl := from.Libc, to.Libc
	collates := func(f string) bool { return f == "glibc" || f == "musl" }
	switch {
	case !collates(fl.Family) || !collates(tl.Family):
	case fl.Family != tl.Family:
		out = append(out, CollationChange{Kind: "libc-family", From: fl.Family, To: tl.Family})
	case fl.Family == "glibc" && fl.Version != "" && tl.Version != "" && fl.Version != tl.Version:
		out = append(out, CollationChange{Kind: "glibc", From: fl.Version, To: tl.Version, Boundary: kb.glibcBoundary(fl.Version, tl.Version)})
	}
	if from.ICU != "" && to.ICU != "" && from.ICU != to.ICU && kb.icuEveryMajor {
		out = append(out, CollationChange{Kind: "icu", From: from.ICU, To: to.ICU})
	}
	return out
}

// glibcBoundary names the boundaries that lie between two versions, in
// either direction: a downgrade across 2.28 breaks indexes just the same.
func (kb *KB) glibcBoundary(from, to string) string {
	a, errA := parseDotted(from)
	b, errB := parseDotted(to)
	if errA != nil || errB != nil {
		return ""
	}
	var crossed []string
	for _, bd := range kb.glibcBoundaries {
		if (compareVersions(a, bd.parts) < 0) != (compareVersions(b, bd.parts) < 0) {
			crossed = append(crossed, bd.label)
		}
	}
	return strings.Join(crossed, ", ")
}
