package pipeline

import (
	"context"
	"fmt"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// Resolver reads what an image really is from its registry.
type Resolver interface {
	Resolve(ctx context.Context, ref imageref.Ref) (imageref.Identity, error)
}

// maxResolves bounds registry reads per run; the rest keep their static
// identity, and a notice says so.
const maxResolves = 200

// resolveImages reads the images of changed pairs that are, or may be,
// databases from their registry, and lets what the image says win over
// what its name says. A failure is a notice; the static answer stands.
func resolveImages(ctx context.Context, r Resolver, pairs []facts.Pair) []finding.Finding {
	// pairs are updated in place with resolved copies of their uses.
	var out []finding.Finding
	done := map[string]imageref.Identity{}
	failed := map[string]bool{}
	skipped := 0
	for i := range pairs {
		p := &pairs[i]
		if p.Head == nil || !(worthResolving(p.Head) || p.Base != nil && worthResolving(p.Base)) {
			continue
		}
		for _, side := range []**facts.ImageUse{&p.Base, &p.Head} {
			u := *side
			if u == nil || u.Image == "" || u.RefError != "" || u.BuiltFrom != "" || failed[u.Image] {
				continue
			}
			id, ok := done[u.Image]
			if !ok {
				if len(done) >= maxResolves {
					skipped++
					continue
				}
				var err error
				id, err = r.Resolve(ctx, u.Identity.Ref)
				if err != nil {
					failed[u.Image] = true
					if side == &p.Head {
						f := finding.New(finding.Skipped, u.File, u.Line, "resolve:"+u.Image,
							fmt.Sprintf("Could not read %s from its registry (%v); the facts from its name and the knowledge base stand.", u.Image, err))
						out = append(out, f)
					}
					continue
				}
				done[u.Image] = id
			}
			// Uses are shared with the inventories: change a copy.
			cp := *u
			cp.Identity = merge(u.Identity, id)
			*side = &cp
		}
	}
	if skipped > 0 {
		out = append(out, finding.New(finding.Skipped, "", 0, "resolve-limit",
			fmt.Sprintf("%d image references were not read from their registries: at most %d are read per run.", skipped, maxResolves)))
	}
	return out
}

func worthResolving(u *facts.ImageUse) bool {
	return u.IsDatabase() || !u.Identity.Known
}

// merge lays what the registry read over the static identity: each fact
// the image itself gave wins, and says so.
func merge(static, read imageref.Identity) imageref.Identity {
	out := static
	sources := map[string]string{}
	for k, v := range static.Sources {
		sources[k] = v
	}
	set := func(fact string) { sources[fact] = imageref.SourceRegistry }
	if read.OS != "" {
		out.OS, out.Release = read.OS, read.Release
		set(imageref.FactOS)
	}
	if read.Libc.Family != "" {
		out.Libc = read.Libc
		set(imageref.FactLibc)
	}
	if read.ICU != "" {
		out.ICU = read.ICU
		set(imageref.FactICU)
	}
	if read.PostgresMajor != 0 && static.SourceOf(imageref.FactPostgres) != imageref.SourcePackage {
		out.PostgresMajor = read.PostgresMajor
		set(imageref.FactPostgres)
	}
	out.Database = static.Database || read.Database
	out.Known = out.OS != "" && out.Libc.Family != ""
	if len(sources) == 4 || static.Source == "" {
		out.Source = imageref.SourceRegistry
	}
	for k, v := range sources {
		if v == out.Source {
			delete(sources, k)
		}
	}
	out.Sources = sources
	return out
}
