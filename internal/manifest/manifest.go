// Package manifest reads the images and Postgres versions that deployment
// files name: compose files, Kubernetes manifests, Helm values files and
// GitHub workflow services (this file and its YAML siblings), and
// Terraform modules (terraform.go). Every fact keeps the file and line it
// came from: YAML is decoded into yaml.Node, never into structs.
//
// Keys and labels of the image uses, by kind:
//
//	compose     service:<name>                          service "db"
//	kubernetes  <Kind>/<name>/container:<c>              container "pg" of Deployment "db"
//	            <Kind>/<ns>/<name>/initContainer:<c>     init container "pg" of Deployment "ns/db"
//	helm        values:<dotted.path>                     postgresql.image
//	workflow    job:<job>/service:<name>                 service "postgres" of job "test"
//	            job:<job>/container                      container of job "test"
//	            job:<job>/service:<name>[pg=15]          service "postgres" of job "test" (pg=15)
//
// YAML anchors, aliases and merge keys (<<) are followed; a file whose
// aliases expand to more than 100,000 nodes (a "billion laughs" file), or
// that names more than 10,000 images, is an input error rather than a
// memory blow-up.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/yamlerr"
)

// Kind says which extractor reads a path.
type Kind int

const (
	// None: breakwater does not read the file as a manifest.
	None Kind = iota
	// Compose: compose.y*ml, compose.*.y*ml, docker-compose*.y*ml.
	Compose
	// Kubernetes: any other YAML file; one that holds no workload is
	// read as empty.
	Kubernetes
	// Helm: values.y*ml, values-*.y*ml, values.*.y*ml.
	Helm
	// Workflow: .github/workflows/*.y*ml.
	Workflow
	// TerraformFile: *.tf, read per module directory by Terraform, not
	// by Extract. (It cannot be called Terraform: that is the function.)
	TerraformFile
)

func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Compose:
		return "compose"
	case Kubernetes:
		return "kubernetes"
	case Helm:
		return "helm"
	case Workflow:
		return "workflow"
	case TerraformFile:
		return "terraform"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Limits on what one file may make breakwater hold.
const (
	// maxImages is the most image uses one file may name.
	maxImages = 10_000
	// maxAliasNodes is the most nodes that alias expansion may add to one
	// YAML document.
	maxAliasNodes = 100_000
)

// notManifest are YAML files by base name (lower case, without the
// extension) that are known to be something other than a manifest.
var notManifest = map[string]bool{
	"chart": true, ".breakwater": true, "action": true, "mkdocs": true,
	".pre-commit-config": true, ".pre-commit-hooks": true, ".golangci": true,
	".gitlab-ci": true, ".travis": true, ".goreleaser": true, "codecov": true, ".codecov": true,
	".yamllint": true, "pnpm-lock": true,
}

// Classify says which extractor reads a path (slash-separated, relative to
// the repository root):
//   - *.tf: TerraformFile;
//   - .github/workflows/*.y*ml: Workflow; anything else under .github/:
//     None;
//   - anything under a templates/ directory (Helm templates are not
//     YAML): None;
//   - compose.y*ml, compose.*.y*ml, docker-compose*.y*ml: Compose;
//   - values.y*ml, values-*.y*ml, values.*.y*ml: Helm;
//   - Chart.yaml, action.yml, mkdocs.yml, .breakwater.yml,
//     .pre-commit-config.yaml, .golangci.yml, CI configs of other
//     services, and lock files (pnpm-lock.yaml, *.lock.yaml): None;
//   - any other .yml or .yaml file: Kubernetes, as a candidate.
func Classify(p string) Kind {
	p = strings.TrimPrefix(filepath.ToSlash(p), "./")
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	lb := strings.ToLower(base)
	ext := path.Ext(lb)
	if ext == ".tf" {
		return TerraformFile
	}
	if ext != ".yml" && ext != ".yaml" {
		return None
	}
	if dir == ".github/workflows" || strings.HasSuffix(dir, "/.github/workflows") {
		return Workflow
	}
	for _, seg := range strings.Split(dir, "/") {
		if seg == ".github" || seg == "templates" {
			return None
		}
	}
	stem := strings.TrimSuffix(lb, ext)
	switch {
	case stem == "compose", strings.HasPrefix(stem, "compose."), strings.HasPrefix(stem, "docker-compose"):
		return Compose
	case stem == "values", strings.HasPrefix(stem, "values-"), strings.HasPrefix(stem, "values."):
		return Helm
	case notManifest[stem], strings.HasSuffix(stem, "-lock"), strings.HasSuffix(stem, ".lock"):
		return None
	}
	return Kubernetes
}

// Extract reads one YAML file of kind k (Compose, Kubernetes, Helm or
// Workflow). env holds the variables for compose interpolation: the
// ParseDotEnv result of the .env beside a compose file, nil if there is
// none; the process environment is never read. The uses it returns have
// Identity and RunsPostgres unset: the caller identifies images.
//
// Malformed input (YAML that does not parse, an invalid compose
// interpolation, an alias bomb, more than 10,000 images) gives a
// *finding.InputError and no manifest. A YAML file of kind Kubernetes
// that holds no Kubernetes workload gives an empty manifest.
func Extract(k Kind, file string, data []byte, env map[string]string) (*facts.Manifest, error) {
	x := &extractor{file: file, m: &facts.Manifest{}}
	var err error
	switch k {
	case Compose:
		err = x.compose(data, env)
	case Kubernetes:
		err = x.kubernetes(data)
	case Helm:
		err = x.helm(data)
	case Workflow:
		err = x.workflow(data)
	default:
		return nil, fmt.Errorf("manifest: Extract does not read %s files", k)
	}
	if err != nil {
		return nil, err
	}
	if x.count > maxImages {
		return nil, &finding.InputError{File: file, Line: x.overLine,
			Msg: fmt.Sprintf("too many services: the file names %d images (limit %d)", x.count, maxImages)}
	}
	return x.m, nil
}

// extractor collects the facts of one file.
type extractor struct {
	file string
	m    *facts.Manifest
	// count is the number of image uses seen, including those past the
	// limit, which are counted but not kept; overLine is the line of the
	// first one past it.
	count    int
	overLine int
}

// add keeps an image use, unless the file is over the limit.
func (x *extractor) add(u *facts.ImageUse) {
	x.count++
	if x.count > maxImages {
		if x.overLine == 0 {
			x.overLine = u.Line
		}
		return
	}
	x.m.Images = append(x.m.Images, u)
}

// full reports whether the file is past the image limit, so callers can
// skip building uses that would be dropped.
func (x *extractor) full() bool { return x.count >= maxImages }

// documents decodes the YAML documents of data in order and calls fn with
// the root node of each non-empty one; with first set, only the first
// document is read. Aliases are checked for bombs and cycles before fn
// sees a document, so fn may follow them freely.
func (x *extractor) documents(data []byte, first bool, fn func(root *yaml.Node) error) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	aliases := bytes.IndexByte(data, '*') >= 0 // no '*', no alias
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return x.yamlError(data, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		if aliases {
			if err := x.checkAliases(&doc); err != nil {
				return err
			}
		}
		if err := fn(doc.Content[0]); err != nil {
			return err
		}
		if first {
			return nil
		}
	}
}

// yamlError names the file and line of a yaml.v3 error.
func (x *extractor) yamlError(data []byte, err error) error {
	return yamlerr.InputError(x.file, data, err)
}

// lineOf is the line of the first occurrence of s in data, 0 if none.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// checkAliases measures how many nodes the aliases of a document expand
// to, without expanding them, and fails beyond maxAliasNodes or on an
// alias inside the node it names (which would expand forever).
func (x *extractor) checkAliases(doc *yaml.Node) error {
	size := map[*yaml.Node]int{} // expanded size; -1 while being measured
	var expanded func(n *yaml.Node) (int, *yaml.Node)
	expanded = func(n *yaml.Node) (int, *yaml.Node) {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if s, ok := size[n]; ok {
			if s < 0 {
				return 0, n
			}
			return s, nil
		}
		size[n] = -1
		s := 1
		for _, c := range n.Content {
			cs, cyc := expanded(c)
			if cyc != nil {
				return 0, cyc
			}
			s = min(s+cs, maxAliasNodes+1)
		}
		size[n] = s
		return s, nil
	}
	total := 0
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind != yaml.AliasNode {
			stack = append(stack, n.Content...)
			continue
		}
		if n.Alias == nil {
			continue // yaml.v3 rejects unknown anchors itself
		}
		s, cyc := expanded(n.Alias)
		if cyc != nil {
			return &finding.InputError{File: x.file, Line: n.Line,
				Msg: fmt.Sprintf("alias *%s refers to a node that contains it", n.Value)}
		}
		if total += s; total > maxAliasNodes {
			return &finding.InputError{File: x.file, Line: n.Line,
				Msg: fmt.Sprintf("YAML aliases expand to more than %d nodes", maxAliasNodes)}
		}
	}
	return nil
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping returns n (aliases followed) when it is a mapping, else nil.
func mapping(n *yaml.Node) *yaml.Node {
	if n = resolve(n); n != nil && n.Kind == yaml.MappingNode {
		return n
	}
	return nil
}

// sequence returns the items of n (aliases followed) when it is a
// sequence, else nil.
func sequence(n *yaml.Node) []*yaml.Node {
	if n = resolve(n); n != nil && n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return nil
}

// scalar returns n (aliases followed) when it is a non-null scalar, else
// nil. Its Value is the text as written, so `tag: 16.10` reads "16.10".
func scalar(n *yaml.Node) *yaml.Node {
	if n = resolve(n); n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return n
	}
	return nil
}

// str is the text of a scalar node, "" for anything else.
func str(n *yaml.Node) string {
	if n = scalar(n); n != nil {
		return n.Value
	}
	return ""
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// get looks key up in mapping n, merge keys included: keys written in n
// win over merged ones, and earlier merged mappings over later ones, as
// YAML's merge key type says. It returns nil when n is not a mapping or
// has no such key.
func get(n *yaml.Node, key string) *yaml.Node {
	n = mapping(n)
	if n == nil {
		return nil
	}
	merges := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if isMerge(k) {
			merges = true
		} else if k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	if !merges {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMerge(resolve(n.Content[i])) {
			continue
		}
		for _, src := range mergeSources(n.Content[i+1]) {
			if v := get(src, key); v != nil {
				return v
			}
		}
	}
	return nil
}

// mergeSources are the mappings a merge key's value names: one mapping or
// a sequence of them.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v = resolve(v); v != nil && v.Kind == yaml.SequenceNode {
		return v.Content
	}
	return []*yaml.Node{v}
}

// entry is one key of a mapping with its value.
type entry struct {
	key   string
	value *yaml.Node
}

// entries lists the scalar keys of mapping n in order with merge keys
// expanded in place, each key once, with the precedence get uses. It
// returns nil when n is not a mapping.
func entries(n *yaml.Node) []entry {
	n = mapping(n)
	if n == nil {
		return nil
	}
	out := make([]entry, 0, len(n.Content)/2)
	merges := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if isMerge(k) {
			merges = true
			break
		}
		if k.Kind == yaml.ScalarNode {
			out = append(out, entry{k.Value, n.Content[i+1]})
		}
	}
	if !merges {
		return out
	}
	out = out[:0]
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); !isMerge(k) && k.Kind == yaml.ScalarNode {
			own[k.Value] = true
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		switch {
		case isMerge(k):
			for _, src := range mergeSources(n.Content[i+1]) {
				for _, e := range entries(src) {
					if !own[e.key] && !seen[e.key] {
						seen[e.key] = true
						out = append(out, e)
					}
				}
			}
		case k.Kind == yaml.ScalarNode && !seen[k.Value]:
			seen[k.Value] = true
			out = append(out, entry{k.Value, n.Content[i+1]})
		}
	}
	return out
}

// placeholders lists what a value leaves to a templating step that runs
// before Kubernetes or Helm sees it: Helm or Go templates ({{ .Values.x }})
// and shell or envsubst variables ($X, ${X}), as written. Kubernetes never
// expands variables in an image, so such a value is not an image yet.
func placeholders(s string) []string {
	if !strings.Contains(s, "{{") && !strings.Contains(s, "$") {
		return nil
	}
	var out []string
	for _, m := range templateRef.FindAllStringSubmatch(s, -1) {
		switch {
		case m[1] != "":
			out = append(out, strings.TrimSpace(m[1]))
		case m[2] != "":
			out = append(out, m[2])
		default:
			out = append(out, m[3])
		}
	}
	return out
}

var templateRef = regexp.MustCompile(`\$?\{\{(.*?)\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
