package configdiff

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// ParseNode reads a YAML, JSON or TOML file (chosen by its extension) into
// a yaml.v3 node tree with lines, so the flattener and the schema walker
// read every format the same way. It returns the document's root node,
// or nil for an empty document. Malformed input is a *finding.InputError.
//
// TODO(formats): JSON and TOML get parsers of their own; for now every
// file is read as YAML.
func ParseNode(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}
