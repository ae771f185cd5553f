package manifest

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/facts"
)

// helm reads a values file. At any depth, through mappings and sequences:
//   - `image: "repo:tag"`, a string, is one use;
//   - `image:` (or a key ending in "Image", such as `kubectlImage:`) holding
//     a mapping with `repository` is one use, composed as
//     registry/repository:tag@digest, each part optional but repository.
//     A top-level global.imageRegistry replaces the registry, as Bitnami's
//     common.images.image does. Its line is the tag's, else the digest's,
//     else the repository's: the line a version bump edits. With neither
//     tag nor digest, the chart falls back to its appVersion, which a
//     values file does not say: Image is then "" and Unresolved names the
//     missing <path>.tag (unless the repository itself carries a tag).
//
// Template expressions ({{ … }}) and shell variables in a value leave it
// unresolved. Tags written as YAML numbers (tag: 16.10) are read as
// written.
func (x *extractor) helm(data []byte) error {
	return x.documents(data, true, func(root *yaml.Node) error {
		global := str(get(get(root, "global"), "imageRegistry"))
		x.values(root, "", global)
		return nil
	})
}

// values walks a values tree; p is the dotted path of n.
func (x *extractor) values(n *yaml.Node, p, global string) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		for _, e := range entries(n) {
			kp := e.key
			if p != "" {
				kp = p + "." + e.key
			}
			if (e.key == "image" || strings.HasSuffix(e.key, "Image")) && x.helmImage(e.value, kp, e.key == "image", global) {
				continue
			}
			x.values(e.value, kp, global)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			x.values(c, fmt.Sprintf("%s[%d]", p, i), global)
		}
	}
}

// helmImage adds the use an image key holds and reports whether it held
// one. Strings count only under a key named exactly "image".
func (x *extractor) helmImage(v *yaml.Node, p string, exact bool, global string) bool {
	var u *facts.ImageUse
	if s := scalar(v); s != nil {
		if !exact || s.ShortTag() != "!!str" || strings.TrimSpace(s.Value) == "" {
			return false
		}
		u = &facts.ImageUse{Line: s.Line, Raw: s.Value, Image: s.Value}
	} else {
		repo := scalar(get(v, "repository"))
		if repo == nil || repo.Value == "" {
			return false
		}
		registry, tag, digest := scalar(get(v, "registry")), scalar(get(v, "tag")), scalar(get(v, "digest"))
		u = &facts.ImageUse{Line: repo.Line}
		var suffix string
		if tag != nil && tag.Value != "" {
			suffix = ":" + tag.Value
			u.Line = tag.Line
		}
		if digest != nil && digest.Value != "" {
			suffix += "@" + digest.Value
			if suffix[0] == '@' {
				u.Line = digest.Line
			}
		}
		u.Raw = repo.Value + suffix
		if registry != nil && registry.Value != "" {
			u.Raw = registry.Value + "/" + u.Raw
		}
		u.Image = u.Raw
		if global != "" {
			u.Image = global + "/" + repo.Value + suffix
		}
		if suffix == "" && !hasTag(repo.Value) {
			u.Image, u.Unresolved = "", []string{p + ".tag"}
		}
	}
	if x.full() {
		x.add(&facts.ImageUse{Line: u.Line})
		return true
	}
	u.File, u.Key, u.Label = x.file, "values:"+p, p
	if ph := placeholders(u.Raw); ph != nil {
		u.Image, u.Unresolved = "", ph
	}
	x.add(u)
	return true
}

// hasTag reports whether a repository value already carries a tag or
// digest (repository: postgres:16).
func hasTag(repo string) bool {
	last := repo[strings.LastIndexByte(repo, '/')+1:]
	return strings.ContainsAny(last, ":@")
}
