package manifest

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

// compose reads services.<name>.image, interpolated from env. A service
// without image (build only) names none; x- keys are extensions, not
// services.
func (x *extractor) compose(data []byte, env map[string]string) error {
	return x.documents(data, true, func(root *yaml.Node) error {
		for _, svc := range entries(get(root, "services")) {
			if strings.HasPrefix(svc.key, "x-") {
				continue
			}
			img := scalar(get(svc.value, "image"))
			if img == nil {
				continue
			}
			if x.full() {
				x.add(&facts.ImageUse{Line: img.Line})
				continue
			}
			image, unresolved, err := interpolate(img.Value, env)
			if err != nil {
				return &finding.InputError{File: x.file, Line: img.Line,
					Msg: fmt.Sprintf("services.%s.image: %v", svc.key, err)}
			}
			x.add(&facts.ImageUse{
				File: x.file, Line: img.Line,
				Key: "service:" + svc.key, Label: fmt.Sprintf("service %q", svc.key),
				Raw: img.Value, Image: image, Unresolved: unresolved,
				BuiltFrom: buildDockerfile(x.file, get(svc.value, "build"), env),
			})
		}
		return nil
	})
}

// interpolate expands variables in a compose value as the compose
// specification says: $$ is a literal $; $VAR and ${VAR} are the value;
// ${VAR:-d} is d when VAR is unset or empty, ${VAR-d} only when unset;
// ${VAR:+r} is r when VAR is set and not empty, ${VAR+r} when set;
// ${VAR:?err} and ${VAR?err} require a value (non-empty for :?). Defaults
// and replacements may hold variables themselves. A $ followed by
// anything else is kept as written.
//
// A variable that has no value where one is needed (plain or required) is
// listed in unresolved, sorted, and the result is then "": compose would
// substitute an empty string or refuse to run, and either way the image
// is not known. A ${ without a valid closing form is an error, as in
// compose.
func interpolate(s string, env map[string]string) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	missing := map[string]bool{}
	out, err := expand(s, env, missing)
	if err != nil {
		return "", nil, err
	}
	if len(missing) == 0 {
		return out, nil, nil
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return "", names, nil
}

func expand(s string, env map[string]string, missing map[string]bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case isNameStart(next):
			j := i + 2
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			name := s[i+1 : j]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				missing[name] = true
			}
			i = j
		case next == '{':
			end := closingBrace(s, i+2)
			if end < 0 {
				return "", fmt.Errorf("invalid interpolation format in %q: unterminated ${", s)
			}
			v, err := braced(s[i+2:end], env, missing)
			if err != nil {
				return "", fmt.Errorf("invalid interpolation format in %q: %w", s, err)
			}
			b.WriteString(v)
			i = end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// closingBrace finds the } that closes a ${ whose body starts at i,
// counting nested ${…}; -1 when there is none.
func closingBrace(s string, i int) int {
	depth := 1
	for ; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '$':
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// braced expands the body of ${…}: a name and an optional modifier.
func braced(body string, env map[string]string, missing map[string]bool) (string, error) {
	j := 0
	for j < len(body) && (j == 0 && isNameStart(body[j]) || j > 0 && isNameChar(body[j])) {
		j++
	}
	name, rest := body[:j], body[j:]
	if name == "" {
		return "", fmt.Errorf("${%s} does not start with a variable name", body)
	}
	v, set := env[name]
	colon := strings.HasPrefix(rest, ":")
	if colon {
		rest = rest[1:]
	}
	if rest == "" {
		if colon {
			return "", fmt.Errorf("${%s} has no modifier after ':'", body)
		}
		if !set {
			missing[name] = true
		}
		return v, nil
	}
	op, arg := rest[0], rest[1:]
	unset := !set || colon && v == ""
	switch op {
	case '-':
		if unset {
			return expand(arg, env, missing)
		}
		return v, nil
	case '+':
		if unset {
			return "", nil
		}
		return expand(arg, env, missing)
	case '?':
		if unset {
			missing[name] = true
			return "", nil
		}
		return v, nil
	}
	return "", fmt.Errorf("${%s} has an unknown modifier %q", body, op)
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameChar(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// ParseDotEnv reads a compose .env file: KEY=VALUE lines, with blank lines
// and # comments skipped, an optional `export ` prefix, values in single
// quotes taken literally, values in double quotes with \n, \t, \" and \\
// escapes, and unquoted values ending at a " #" comment. Unquoted and
// double-quoted values may use variables set earlier in the file, as
// compose allows; a value that uses one the file does not set is left
// out, since its value would come from the environment of whoever runs
// compose. Lines that are not assignments are ignored.
func ParseDotEnv(data []byte) map[string]string {
	env := map[string]string{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if l == "" || l[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(l, "export "); ok {
			l = strings.TrimSpace(rest)
		}
		k, v, ok := strings.Cut(l, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		v = strings.TrimSpace(v)
		literal := false
		switch {
		case strings.HasPrefix(v, "'"):
			v, literal = strings.TrimPrefix(v, "'"), true
			if i := strings.IndexByte(v, '\''); i >= 0 {
				v = v[:i]
			}
		case strings.HasPrefix(v, `"`):
			v = unquoteDouble(v[1:])
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		if !literal {
			exp, unresolved, err := interpolate(v, env)
			if err != nil || len(unresolved) > 0 {
				delete(env, k)
				continue
			}
			v = exp
		}
		env[k] = v
	}
	return env
}

// unquoteDouble reads a double-quoted .env value up to its closing quote
// (or the end of the line, if it has none).
func unquoteDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			break
		}
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// buildDockerfile is the repository path of the Dockerfile a service's
// build: names, "" when there is none or it is not in this repository.
// build: is a context path, or a map with context and dockerfile.
func buildDockerfile(file string, build *yaml.Node, env map[string]string) string {
	if build == nil {
		return ""
	}
	context, dockerfile := ".", "Dockerfile"
	if s := scalar(build); s != nil {
		context = s.Value
	} else {
		if c := scalar(get(build, "context")); c != nil {
			context = c.Value
		}
		if d := scalar(get(build, "dockerfile")); d != nil {
			dockerfile = d.Value
		}
	}
	context, _, err1 := interpolate(context, env)
	dockerfile, _, err2 := interpolate(dockerfile, env)
	if err1 != nil || err2 != nil || strings.Contains(context, "://") || strings.HasPrefix(context, "git@") ||
		path.IsAbs(context) || path.IsAbs(dockerfile) {
		return ""
	}
	p := path.Clean(path.Join(path.Dir(file), context, dockerfile))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "" // outside the repository
	}
	return p
}
