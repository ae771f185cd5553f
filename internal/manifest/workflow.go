package manifest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/facts"
)

// maxMatrixUses bounds the uses one image expands to over a matrix.
const maxMatrixUses = 256

// workflow reads jobs.<job>.services.<name> (a mapping with image, or an
// image string) and jobs.<job>.container (likewise).
//
// An image with ${{ … }} expressions has Image "" and lists the
// expressions (inner text, trimmed) in Unresolved, unless every
// expression is matrix.<var> and the job's strategy.matrix gives each
// such var a literal list (values from matrix.include count too; exclude
// is not applied): then there is one use per combination, its Key and
// Label suffixed with the values, such as `job:test/service:pg[pg=15]`
// and `service "pg" of job "test" (pg=15)`.
func (x *extractor) workflow(data []byte) error {
	return x.documents(data, true, func(root *yaml.Node) error {
		for _, job := range entries(get(root, "jobs")) {
			matrix := get(get(job.value, "strategy"), "matrix")
			if c := get(job.value, "container"); c != nil {
				x.jobImage(c, "job:"+job.key+"/container", fmt.Sprintf("container of job %q", job.key), matrix)
			}
			for _, svc := range entries(get(job.value, "services")) {
				x.jobImage(svc.value, "job:"+job.key+"/service:"+svc.key,
					fmt.Sprintf("service %q of job %q", svc.key, job.key), matrix)
			}
		}
		return nil
	})
}

var (
	ghExpr      = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	matrixField = regexp.MustCompile(`^matrix\.([A-Za-z_][A-Za-z0-9_-]*)$`)
)

// jobImage adds the uses of a container or service value: a string, or a
// mapping with image.
func (x *extractor) jobImage(v *yaml.Node, key, label string, matrix *yaml.Node) {
	img := scalar(v)
	if img == nil {
		img = scalar(get(v, "image"))
	}
	if img == nil || img.Value == "" {
		return
	}
	if x.full() {
		x.add(&facts.ImageUse{Line: img.Line})
		return
	}
	u := &facts.ImageUse{File: x.file, Line: img.Line, Key: key, Label: label, Raw: img.Value, Image: img.Value}
	exprs := ghExpr.FindAllStringSubmatch(img.Value, -1)
	if exprs == nil {
		x.add(u)
		return
	}
	u.Image = ""
	for _, m := range exprs {
		u.Unresolved = append(u.Unresolved, strings.TrimSpace(m[1]))
	}
	combos := matrixCombos(u.Unresolved, matrix)
	if combos == nil {
		x.add(u)
		return
	}
	for _, combo := range combos {
		c := *u
		c.Unresolved = nil
		c.Image = ghExpr.ReplaceAllStringFunc(img.Value, func(e string) string {
			return combo.values[matrixField.FindStringSubmatch(strings.TrimSpace(e[3 : len(e)-2]))[1]]
		})
		c.Key += "[" + combo.text + "]"
		c.Label += " (" + combo.text + ")"
		x.add(&c)
	}
}

// combo is one assignment of matrix variables: values by name, and as
// text for keys, "os=ubuntu,pg=15".
type combo struct {
	values map[string]string
	text   string
}

// matrixCombos lists the combinations of the matrix variables that exprs
// use, nil when an expression is not matrix.<var> or a variable has no
// literal values.
func matrixCombos(exprs []string, matrix *yaml.Node) []combo {
	if mapping(matrix) == nil {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, e := range exprs {
		m := matrixField.FindStringSubmatch(e)
		if m == nil {
			return nil
		}
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	combos := []combo{{values: map[string]string{}}}
	for _, name := range names {
		vals := matrixValues(matrix, name)
		if len(vals) == 0 || len(combos)*len(vals) > maxMatrixUses {
			return nil
		}
		var next []combo
		for _, c := range combos {
			for _, v := range vals {
				n := combo{values: map[string]string{name: v}, text: name + "=" + v}
				for k, cv := range c.values {
					n.values[k] = cv
				}
				if c.text != "" {
					n.text = c.text + "," + n.text
				}
				next = append(next, n)
			}
		}
		combos = next
	}
	return combos
}

// matrixValues lists the literal values of one matrix variable, from its
// list and from include entries, each once; nil if any is not a scalar
// or is itself an expression.
func matrixValues(matrix *yaml.Node, name string) []string {
	var vals []string
	seen := map[string]bool{}
	addVal := func(n *yaml.Node) bool {
		s := scalar(n)
		if s == nil || strings.Contains(s.Value, "${{") {
			return false
		}
		if !seen[s.Value] {
			seen[s.Value] = true
			vals = append(vals, s.Value)
		}
		return true
	}
	if list := get(matrix, name); list != nil {
		items := sequence(list)
		if items == nil {
			return nil
		}
		for _, it := range items {
			if !addVal(it) {
				return nil
			}
		}
	}
	for _, inc := range sequence(get(matrix, "include")) {
		if v := get(inc, name); v != nil && !addVal(v) {
			return nil
		}
	}
	return vals
}
