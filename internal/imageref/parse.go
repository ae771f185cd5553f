package imageref

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"
)

// ErrUnresolved is wrapped by Parse when the reference still holds a
// variable ($FOO, ${FOO}): the caller expanded what it could and the rest
// has no value, so the image is not known.
var ErrUnresolved = errors.New("unresolved variable")

var variableRe = regexp.MustCompile(`\$(?:\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)`)

// Parse normalizes an image reference as Docker does: "postgres:17" is
// docker.io/library/postgres with tag 17. Errors read
// `invalid image reference "X": reason`.
func Parse(s string) (Ref, error) {
	fail := func(reason string) (Ref, error) {
		return Ref{}, fmt.Errorf("invalid image reference %q: %s", s, reason)
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return fail("empty")
	}
	// Checked before the grammar so the error names the real cause, not
	// "invalid reference format".
	if vars := variableRe.FindAllString(in, -1); len(vars) > 0 {
		return Ref{}, fmt.Errorf("invalid image reference %q: %w %s", s, ErrUnresolved, strings.Join(vars, ", "))
	}
	if strings.Contains(in, "$") {
		return fail(`"$" outside a variable`)
	}
	named, err := reference.ParseNormalizedNamed(in)
	if err != nil {
		return fail(parseReason(err))
	}
	r := Ref{Raw: s, Name: named.Name(), Path: reference.FamiliarName(named)}
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest().String()
	}
	return r, nil
}

// parseReason turns the library's errors into a reason a user can act on.
func parseReason(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, reference.ErrReferenceInvalidFormat) && msg == reference.ErrReferenceInvalidFormat.Error():
		return "not of the form [registry/]name[:tag][@digest]"
	case errors.Is(err, reference.ErrNameContainsUppercase):
		return "repository name must be lowercase"
	case errors.Is(err, reference.ErrTagInvalidFormat):
		return "invalid tag"
	}
	return strings.TrimPrefix(msg, "invalid reference format: ")
}
