package configdiff

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// refCycle refuses a schema with a $ref cycle that never descends into
// the document (a → b → a, or through allOf, anyOf, oneOf, not,
// if/then/else, dependentSchemas): it applies to one value for ever, so
// nothing can be validated against it. The validator finds such a cycle
// only while validating and reports it as the document's fault, so an old
// config would be "rejected by the new schema" for the schema's own
// mistake. $dynamicRef and $recursiveRef resolve at run time and are not
// followed as cycles.
func (l *schemaLoader) refCycle(root *jsonschema.Schema) error {
	// Every subschema, through every keyword.
	all := []*jsonschema.Schema{root}
	seen := map[*jsonschema.Schema]bool{root: true}
	for i := 0; i < len(all); i++ {
		inPlace, down := subschemas(all[i])
		for _, c := range append(inPlace, down...) {
			if c != nil && !seen[c] {
				seen[c] = true
				all = append(all, c)
			}
		}
	}
	// A cycle of in-place edges, found by depth-first search.
	const (
		onPath = 1
		done   = 2
	)
	state := map[*jsonschema.Schema]int{}
	var path, cycle []*jsonschema.Schema
	var visit func(s *jsonschema.Schema) bool
	visit = func(s *jsonschema.Schema) bool {
		state[s] = onPath
		path = append(path, s)
		inPlace, _ := subschemas(s)
		for _, c := range inPlace {
			switch {
			case c == nil || state[c] == done:
			case state[c] == onPath:
				i := len(path) - 1
				for path[i] != c {
					i--
				}
				cycle = append(append(cycle, path[i:]...), c)
				return true
			case visit(c):
				return true
			}
		}
		path = path[:len(path)-1]
		state[s] = done
		return false
	}
	for _, s := range all {
		if state[s] == 0 && visit(s) {
			break
		}
	}
	if cycle == nil {
		return nil
	}
	names := make([]string, len(cycle))
	for i, s := range cycle {
		names[i] = strings.TrimSuffix(trimURLs(s.Location), "#")
	}
	file, line := "", 1
	if p, frag, ok := strings.Cut(cycle[0].Location, "#"); ok {
		if rp, ok := repoPath(p); ok {
			file = rp
			loc := pointerTokens(frag)
			if cycle[0].Ref == cycle[1] {
				loc = append(loc, "$ref")
			}
			if n, _ := Locate(l.nodes[rp], loc); n > 0 {
				line = n
			}
		}
	} else if rp, ok := repoPath(cycle[0].Location); ok {
		file = rp
	}
	return &finding.InputError{File: file, Line: line,
		Msg: "$ref cycle " + strings.Join(names, " → ") + ": it applies to the same value for ever, so nothing validates against it"}
}

// pointerTokens splits a JSON pointer fragment ("/definitions/a~1b").
func pointerTokens(frag string) []string {
	if frag == "" || frag == "/" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	for i, t := range toks {
		toks[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return toks
}

// subschemas are a schema's subschemas and $ref targets: those applied to
// the same value, and the rest.
func subschemas(s *jsonschema.Schema) (inPlace, down []*jsonschema.Schema) {
	inPlace = append(inPlace, s.Ref, s.Not, s.If, s.Then, s.Else)
	inPlace = append(inPlace, s.AllOf...)
	inPlace = append(inPlace, s.AnyOf...)
	inPlace = append(inPlace, s.OneOf...)
	for _, c := range s.DependentSchemas {
		inPlace = append(inPlace, c)
	}
	for _, c := range s.Dependencies {
		if c, ok := c.(*jsonschema.Schema); ok {
			inPlace = append(inPlace, c)
		}
	}
	if s.DynamicRef != nil {
		down = append(down, s.DynamicRef.Ref)
	}
	down = append(down, s.RecursiveRef, s.PropertyNames, s.UnevaluatedProperties, s.Contains,
		s.Items2020, s.UnevaluatedItems, s.ContentSchema)
	for _, c := range s.Properties {
		down = append(down, c)
	}
	for _, c := range s.PatternProperties {
		down = append(down, c)
	}
	down = append(down, s.PrefixItems...)
	for _, v := range []any{s.AdditionalProperties, s.Items, s.AdditionalItems} {
		switch v := v.(type) {
		case *jsonschema.Schema:
			down = append(down, v)
		case []*jsonschema.Schema:
			down = append(down, v...)
		}
	}
	return inPlace, down
}
