// Package yamlerr turns gopkg.in/yaml.v3 errors into errors that name the
// file and the line, for every package that reads YAML.
package yamlerr

import (
	"bytes"
	"strconv"
	"strings"

	"regexp"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): `)
	unknownAlias = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// InputError turns a yaml.v3 error into an InputError with the line it
// names. yaml.v3 counts lines from 1 for scanner errors but from 0 for
// parser errors ("did not find expected …", reported at the start of the
// enclosing block or flow collection), so those are shifted by one. An
// unknown anchor is reported where it is first used. data is the file,
// which those two need; without it (nil) the line is yaml.v3's, shifted.
func InputError(file string, data []byte, err error) *finding.InputError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	e := &finding.InputError{File: file, Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = msg[len(m[0]):]
		if parserError(e.Msg) {
			e.Line++
		}
		// At the end of a file without a final newline, yaml.v3 marks
		// the line after the last one; the problem is on the last one.
		if n := bytes.Count(data, []byte("\n")) + 1; len(data) > 0 && e.Line > n {
			e.Line = n
		}
	} else if m := unknownAlias.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			e.Line = bytes.Count(data[:i], []byte("\n")) + 1
		}
	}
	return e
}

// parserError reports whether a yaml.v3 problem comes from its parser
// (parserc.go) rather than its scanner.
func parserError(problem string) bool {
	switch problem {
	case "did not find expected <stream-start>", "did not find expected <document start>",
		"did not find expected node content", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"found undefined tag handle", "found duplicate %YAML directive",
		"found incompatible YAML document", "found duplicate %TAG directive":
		return true
	}
	return false
}
