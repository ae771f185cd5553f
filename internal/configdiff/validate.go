package configdiff

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// repoRoot is the URL the repository is mounted at for the validator, so
// that relative $refs resolve between repository files and anything else
// (another path, another scheme) can be told apart and refused.
const repoRoot = "/breakwater-repository/"

// maxViolations caps what one document reports; the rest are counted.
const maxViolations = 20

var english = message.NewPrinter(language.English)

// Schema is a compiled JSON Schema and the repository files it was read
// from, so a caller can tell whether any of them changed.
type Schema struct {
	schema *jsonschema.Schema
	// Files lists the repository paths read to compile it, the root first.
	Files []string
}

// Violation is one reason a schema rejects a document.
type Violation struct {
	Location []string // where in the document, as JSON pointer tokens
	Keyword  string   // the keyword that rejected it: "additionalProperties", "type", …
	Message  string   // the validator's words
	// Key is the offending key of an additionalProperties violation,
	// which the validator places at the object, so the line can be the
	// key's own.
	Key string
}

// Path is where the violation is best shown: the offending key, or the
// location.
func (v Violation) Path() []string {
	if v.Key != "" {
		return append(v.Location[:len(v.Location):len(v.Location)], v.Key)
	}
	return v.Location
}

// Pointer is Path as a JSON pointer, "/" for the whole document.
func (v Violation) Pointer() string { return pointer(v.Path()) }

func pointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// CompileSchema compiles the schema at path (a repository path), reading
// it and every file its $refs name through load. Drafts 4 to 2020-12 are
// understood, 2020-12 when "$schema" is absent; their metaschemas are
// built in and never fetched. A $ref to a URL, an absolute path or a path
// outside the repository is refused. Errors are *finding.InputError.
func CompileSchema(file string, load Loader) (*Schema, error) {
	l := &schemaLoader{load: load, nodes: map[string]*yaml.Node{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(l)
	s, err := c.Compile(fileURL(file))
	if err != nil {
		return nil, l.inputError(file, err)
	}
	if err := l.refCycle(s); err != nil {
		return nil, err
	}
	return &Schema{schema: s, Files: l.files}, nil
}

// Validate lists why the schema rejects v (a value in the JSON data model,
// as Value returns), nil when it accepts it. At most maxViolations are
// listed; n counts them all.
func (s *Schema) Validate(v any) (out []Violation, n int) {
	err := s.schema.Validate(v)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		if err != nil {
			return []Violation{{Message: err.Error()}}, 1
		}
		return nil, 0
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		n++
		if len(out) < maxViolations {
			v := Violation{Location: e.InstanceLocation, Keyword: keyword(e.ErrorKind), Message: e.ErrorKind.LocalizedString(english)}
			if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
				v.Key = ap.Properties[0]
			}
			out = append(out, v)
		}
	}
	walk(ve)
	return out, n
}

func keyword(k jsonschema.ErrorKind) string {
	p := k.KeywordPath()
	if len(p) == 0 {
		return ""
	}
	return p[len(p)-1]
}

func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: repoRoot + p}).String()
}

// schemaLoader serves repository files to the validator and keeps their
// node trees, so errors in them can be given a line.
type schemaLoader struct {
	load  Loader
	files []string
	nodes map[string]*yaml.Node
	// err is the first load that failed: the validator wraps it in an
	// error that does not unwrap.
	err error
}

// RemoteRefError is a $ref breakwater will not follow.
type RemoteRefError struct{ URL string }

func (e *RemoteRefError) Error() string {
	return fmt.Sprintf("$ref %s is not followed: breakwater reads schemas only from the repository", e.URL)
}

func (l *schemaLoader) Load(raw string) (any, error) {
	v, err := l.read(raw)
	if err != nil && l.err == nil {
		l.err = err
	}
	return v, err
}

func (l *schemaLoader) read(raw string) (any, error) {
	p, ok := repoPath(raw)
	if !ok {
		file, line := l.refLine(raw)
		return nil, &finding.InputError{File: file, Line: line, Msg: (&RemoteRefError{URL: trimURLs(raw)}).Error()}
	}
	data, err := l.load(p)
	if err != nil {
		var bad *finding.InputError
		if errors.As(err, &bad) {
			return nil, err
		}
		file, line := l.refLine(raw)
		return nil, &finding.InputError{File: file, Line: line, Msg: fmt.Sprintf("$ref %s does not resolve: %v", p, err)}
	}
	root, err := ParseNode(p, data)
	if err != nil {
		return nil, err
	}
	l.files = append(l.files, p)
	l.nodes[p] = root
	if root == nil {
		return nil, &finding.InputError{File: p, Line: 1, Msg: "empty schema"}
	}
	v, err := Value(root)
	var bad *finding.InputError
	if errors.As(err, &bad) && bad.File == "" {
		bad.File = p
	}
	return v, err
}

// refLine finds the $ref that names target in the files read so far, for
// an error about it; the root schema when none does.
func (l *schemaLoader) refLine(target string) (string, int) {
	want, _, _ := strings.Cut(target, "#")
	for _, f := range l.files {
		base, _ := url.Parse(fileURL(f))
		var found int
		var walk func(n *yaml.Node, depth int)
		walk = func(n *yaml.Node, depth int) {
			if n == nil || found != 0 || depth > maxDepth {
				return
			}
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i], n.Content[i+1]
					if k.Value == "$ref" && v.Kind == yaml.ScalarNode {
						if u, err := url.Parse(v.Value); err == nil {
							got, _, _ := strings.Cut(base.ResolveReference(u).String(), "#")
							if got == want {
								found = k.Line
								return
							}
						}
					}
				}
			}
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
		walk(l.nodes[f], 0)
		if found != 0 {
			return f, found
		}
	}
	if len(l.files) > 0 {
		return l.files[0], 1
	}
	return "", 1
}

// repoPath maps a validator URL back to a repository path.
func repoPath(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || u.Host != "" || !strings.HasPrefix(u.Path, repoRoot) {
		return "", false
	}
	p := strings.TrimPrefix(u.Path, repoRoot)
	if p == "" || path.Clean(p) != p || strings.HasPrefix(p, "../") || !fs.ValidPath(p) {
		return "", false
	}
	return p, true
}

// inputError names the file and line of a compile error: the error of a
// file the loader read, or the schema keyword that is invalid, else the
// root schema.
func (l *schemaLoader) inputError(file string, err error) error {
	var ie *finding.InputError
	if errors.As(l.err, &ie) || errors.As(err, &ie) {
		if ie.File == "" {
			ie.File = file
		}
		return ie
	}
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		if p, ok := repoPath(sve.URL); ok {
			var ve *jsonschema.ValidationError
			line := 1
			msg := trimURLs(sve.Err.Error())
			if errors.As(sve.Err, &ve) {
				leaf := ve
				for len(leaf.Causes) > 0 {
					leaf = leaf.Causes[0]
				}
				line, _ = Locate(l.nodes[p], leaf.InstanceLocation)
				msg = fmt.Sprintf("not a valid JSON Schema at %s: %s", pointer(leaf.InstanceLocation), leaf.ErrorKind.LocalizedString(english))
			}
			return &finding.InputError{File: p, Line: line, Msg: msg}
		}
	}
	return &finding.InputError{File: file, Line: 1, Msg: "schema does not compile: " + trimURLs(err.Error())}
}

// trimURLs shows repository URLs as the paths people know.
func trimURLs(s string) string {
	return strings.ReplaceAll(s, "file://"+repoRoot, "")
}
