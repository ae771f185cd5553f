package config

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/configdiff"
)

//go:embed breakwater.schema.json
var schemaJSON []byte

// Schema is the JSON Schema of .breakwater.yml, for editors and docs.
func Schema() []byte { return slices.Clone(schemaJSON) }

const schemaName = "breakwater.schema.json"

var compiled = sync.OnceValues(func() (*configdiff.Schema, error) {
	return configdiff.CompileSchema(schemaName, func(p string) ([]byte, error) {
		if p == schemaName {
			return schemaJSON, nil
		}
		return nil, fs.ErrNotExist
	})
})

// validate checks a parsed .breakwater.yml against the schema. The error
// is the violation nearest the top of the file, with its line.
func validate(file string, doc *yaml.Node) error {
	s, err := compiled()
	if err != nil {
		return fmt.Errorf("breakwater's own config schema does not compile: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil // empty, or comments only: the defaults
	}
	root := doc.Content[0]
	v, err := configdiff.Value(root)
	if err != nil {
		var bad *Error
		if errors.As(err, &bad) {
			bad.File = file
		}
		return err
	}
	vs, n := s.Validate(v)
	if n == 0 {
		return nil
	}
	best, line := vs[0], 0
	for _, x := range vs {
		if l, _ := configdiff.Locate(root, x.Path()); line == 0 || l < line {
			best, line = x, l
		}
	}
	msg := best.Message
	if n := configdiff.Find(root, best.Location); n != nil && n.Kind == yaml.ScalarNode && best.Key == "" {
		msg = fmt.Sprintf("%q: %s", n.Value, msg)
	}
	if where := readable(best.Path()); where != "" {
		msg = where + ": " + msg
	}
	if n > 1 {
		msg += fmt.Sprintf(" (and %d more)", n-1)
	}
	return &Error{File: file, Line: line, Msg: msg}
}

// readable renders an instance location the way the file reads:
// config[0].files.
func readable(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
