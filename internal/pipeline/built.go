package pipeline

import (
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// resolveBuilt gives images the repository builds, or that the config
// declares, the identity of what they really are: the final stage of
// their Dockerfile on the same side, or the image they are the same as.
// Uses are shared with the other side's inventory, so changed ones are
// copied, never written in place.
func (rd *reader) resolveBuilt(inv *inventory) {
	for p, ff := range inv.files {
		var changed []*facts.ImageUse
		for i, u := range ff.images {
			nu := rd.builtIdentity(inv, u)
			if nu == nil {
				continue
			}
			if changed == nil {
				changed = append([]*facts.ImageUse(nil), ff.images...)
			}
			changed[i] = nu
		}
		if changed != nil {
			cp := *ff
			cp.images = changed
			inv.files[p] = &cp
		}
	}
}

// builtIdentity returns a copy of u with its identity from where it is
// built, or nil when u is not built here or nothing better is known.
func (rd *reader) builtIdentity(inv *inventory, u *facts.ImageUse) *facts.ImageUse {
	if u.Image == "" || u.Identity.Ref.Path == "" {
		return nil
	}
	from := u.BuiltFrom
	if from == "" {
		from = inv.bake[u.Identity.Ref.Path]
	}
	if d, ok := rd.cfg.Image(u.Identity.Ref); ok {
		if d.SameAs != "" {
			return rd.sameAs(u, d)
		}
		from = d.Dockerfile
	}
	if from == "" || from == u.File {
		return nil
	}
	df := inv.files[from]
	if df == nil || len(df.images) == 0 {
		return nil
	}
	final := df.images[len(df.images)-1]
	for _, s := range df.images {
		if s.Key == "final" {
			final = s
		}
	}
	if final.Image == "" {
		return nil
	}
	nu := *u
	nu.BuiltFrom = from
	nu.RunsPostgres = final.RunsPostgres
	nu.Package, nu.PackageMajor = final.Package, final.PackageMajor
	id := final.Identity
	id.Ref = u.Identity.Ref
	id.Database = id.Database || final.RunsPostgres || u.Identity.Database
	id.Note = "built from " + from + " (" + final.Image + ")"
	id.Source = imageref.SourceDockerfile
	id.Sources = nil
	if final.PackageMajor != 0 {
		id.Sources = map[string]string{imageref.FactPostgres: imageref.SourcePackage}
	}
	nu.Identity = id
	return &nu
}

// sameAs takes the identity of the image the config names.
func (rd *reader) sameAs(u *facts.ImageUse, d config.ImageDecl) *facts.ImageUse {
	known := rd.ident(d.SameAs)
	if known.err != "" {
		return nil
	}
	nu := *u
	id := known.id
	id.Ref = u.Identity.Ref
	id.Note = "declared in .breakwater.yml as the same as " + d.SameAs
	id.Source, id.Sources = imageref.SourceConfig, nil
	nu.Identity = id
	return &nu
}
