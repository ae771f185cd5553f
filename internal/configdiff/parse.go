package configdiff

import (
	"bytes"
	"errors"
	"io"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseNode reads a YAML, JSON or TOML file (chosen by its extension,
// ignoring case; anything but .json and .toml is YAML) into a yaml.v3 node
// tree with lines, so the flattener and the schema walker read every
// format the same way. It returns the document's root node, or nil for an
// empty document (no content, or a YAML document that is only `---`).
// Only the first document of a YAML stream is read. Malformed input is a
// *finding.InputError with the parser's message and a 1-based line.
//
// JSON and TOML get parsers of their own rather than going through
// yaml.v3: yaml.v3 rejects valid JSON (`"\/"`, surrogate pairs such as
// `"\ud83d\ude00"`), and TOML is not YAML at all.
func ParseNode(file string, data []byte) (*yaml.Node, error) {
	switch strings.ToLower(path.Ext(file)) {
	case ".json":
		return parseJSON(file, data)
	case ".toml":
		return parseTOML(file, data)
	}
	return parseYAML(file, data)
}

func parseYAML(file string, data []byte) (*yaml.Node, error) {
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
	root := doc.Content[0]
	// "---" alone (or with only comments) is an empty document, like an
	// empty file; an explicit `null` or `~` is a value and is kept.
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" && root.Value == "" && root.Style&yaml.TaggedStyle == 0 {
		return nil, nil
	}
	return root, nil
}
