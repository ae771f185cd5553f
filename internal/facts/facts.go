// Package facts holds what extractors find on each side of a change, in
// the shape checks consume. Extractors fill it; checks only read it.
package facts

import "github.com/breakwater-ci/breakwater/internal/imageref"

// ImageUse is one place the repository names a container image.
type ImageUse struct {
	File string
	Line int
	// Key tells uses in one file apart without line numbers, so base and
	// head can be matched and fingerprints survive edits ("stage:db").
	Key string
	// Label names the use for people: `stage "db"`, `stage 2`.
	Label string
	// Image is the reference after variable expansion; "" when a
	// variable in it has no value (then Unresolved names them).
	Raw        string
	Image      string
	Unresolved []string
	// RefError says why Image is not a valid reference.
	RefError string
	// RunsPostgres is set when the use installs or starts a Postgres
	// server, so its OS holds the database's collation.
	RunsPostgres bool
	Identity     imageref.Identity
}

// IsDatabase reports whether the use carries Postgres data: a Postgres
// family image or a stage that runs Postgres.
func (u *ImageUse) IsDatabase() bool { return u.Identity.Database || u.RunsPostgres }

// Pair is a use matched across the change. Base is nil for a new use,
// Head nil for a removed one.
type Pair struct {
	Base, Head *ImageUse
}

// Changed reports whether the head use is new or differs from the base.
func (p Pair) Changed() bool {
	if p.Head == nil {
		return false
	}
	if p.Base == nil {
		return true
	}
	return p.Base.Image != p.Head.Image || p.Base.Raw != p.Head.Raw || p.Base.RunsPostgres != p.Head.RunsPostgres
}

// Match pairs base and head uses of one file by key, then leftover uses
// at the same position that are plausibly the same thing (same image
// repository, or both databases), so a renamed stage still pairs up but a
// stage inserted above another is not compared with it.
func Match(base, head []*ImageUse) []Pair {
	var pairs []Pair
	used := make([]bool, len(base))
	byKey := map[string]int{}
	for i, b := range base {
		byKey[b.Key] = i
	}
	matched := make([]bool, len(head))
	for j, h := range head {
		if i, ok := byKey[h.Key]; ok && !used[i] {
			used[i], matched[j] = true, true
			pairs = append(pairs, Pair{base[i], h})
		}
	}
	for j, h := range head {
		if matched[j] {
			continue
		}
		if j < len(base) && !used[j] && alike(base[j], h) {
			used[j] = true
			pairs = append(pairs, Pair{base[j], h})
			continue
		}
		pairs = append(pairs, Pair{nil, h})
	}
	for i, b := range base {
		if !used[i] {
			pairs = append(pairs, Pair{b, nil})
		}
	}
	return pairs
}

func alike(a, b *ImageUse) bool {
	if a.IsDatabase() && b.IsDatabase() {
		return true
	}
	return a.Identity.Ref.Path != "" && a.Identity.Ref.Path == b.Identity.Ref.Path
}
