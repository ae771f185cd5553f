package manifest

import (
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// IsBake reports whether a path is a docker buildx bake file.
func IsBake(p string) bool {
	b := path.Base(p)
	return b == "docker-bake.hcl" || (strings.HasPrefix(b, "docker-bake.") && strings.HasSuffix(b, ".hcl"))
}

// Bake reads the targets of a bake file and returns, for each image
// repository a target tags, the repository path of the Dockerfile that
// builds it. Values that need variables or functions are skipped: a target
// breakwater cannot read builds nothing it can match.
func Bake(file string, data []byte) (map[string]string, error) {
	f, diags := hclsyntax.ParseConfig(data, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, tfParseError(file, diags)
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil
	}
	out := map[string]string{}
	for _, b := range body.Blocks {
		if b.Type != "target" {
			continue
		}
		context, dockerfile := ".", "Dockerfile"
		var tags []string
		unreadable := false
		for name, a := range b.Body.Attributes {
			v, d := a.Expr.Value(nil)
			if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
				unreadable = unreadable || name == "context" || name == "dockerfile"
				continue
			}
			switch name {
			case "context":
				if v.Type() == cty.String {
					context = v.AsString()
				}
			case "dockerfile":
				if v.Type() == cty.String {
					dockerfile = v.AsString()
				}
			case "tags":
				if v.CanIterateElements() {
					for it := v.ElementIterator(); it.Next(); {
						if _, e := it.Element(); e.Type() == cty.String {
							tags = append(tags, e.AsString())
						}
					}
				}
			}
		}
		if unreadable || strings.Contains(context, "://") || path.IsAbs(context) || path.IsAbs(dockerfile) {
			continue
		}
		df := path.Clean(path.Join(path.Dir(file), context, dockerfile))
		if df == ".." || strings.HasPrefix(df, "../") {
			continue
		}
		for _, t := range tags {
			if ref, err := imageref.Parse(t); err == nil {
				out[ref.Path] = df
			}
		}
	}
	return out, nil
}
