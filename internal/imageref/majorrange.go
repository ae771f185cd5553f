package imageref

import (
	"fmt"
	"strings"
)

// MajorRange is a set of Postgres majors written as space-separated
// constraints: ">=13 <=17", ">9.6", "=16". Every constraint must hold.
type MajorRange struct {
	text  string
	conds []majorCond
}

type majorCond struct {
	op string
	m  PGMajor
}

// ParseMajorRange reads a range; an empty string is an error, since a
// range that allows everything is no policy.
func ParseMajorRange(s string) (MajorRange, error) {
	r := MajorRange{text: strings.Join(strings.Fields(s), " ")}
	for _, f := range strings.Fields(s) {
		op := ""
		for _, o := range []string{">=", "<=", ">", "<", "="} {
			if strings.HasPrefix(f, o) {
				op = o
				break
			}
		}
		if op == "" {
			return MajorRange{}, fmt.Errorf("constraint %q: start it with >=, <=, >, < or =", f)
		}
		m, err := ParsePGMajor(strings.TrimPrefix(f, op))
		if err != nil {
			return MajorRange{}, fmt.Errorf("constraint %q: %v", f, err)
		}
		r.conds = append(r.conds, majorCond{op, m})
	}
	if len(r.conds) == 0 {
		return MajorRange{}, fmt.Errorf("empty range: write constraints such as \">=13 <=17\"")
	}
	return r, nil
}

// IsZero reports whether no range was declared.
func (r MajorRange) IsZero() bool { return len(r.conds) == 0 }

// Contains reports whether m satisfies every constraint.
func (r MajorRange) Contains(m PGMajor) bool {
	for _, c := range r.conds {
		ok := false
		switch c.op {
		case ">=":
			ok = m >= c.m
		case "<=":
			ok = m <= c.m
		case ">":
			ok = m > c.m
		case "<":
			ok = m < c.m
		case "=":
			ok = m == c.m
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r MajorRange) String() string { return r.text }
