package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// brk is one thing in the new schema that the old application breaks on.
type brk struct {
	key   string // kind and object, to follow it across steps
	table string // the table it is about, to find the statement; "" for types and functions
	what  string
}

const compatRemedy = "Split the change into expand and contract: in this release only add (the new column, table, enum value or function, kept in sync with the old one by the application or a trigger); remove or rename the old one in a later release, once no running version uses it. For a NOT NULL column, add it with a DEFAULT. Teams that deploy with downtime, where no old version runs against the new schema, can suppress this finding with that reason."

// Incompatible compares the schema the old application ran on (after the
// base migrations and the seed) with the one the head migrations leave,
// and reports what the old version, still serving during the rollout,
// breaks on. Each finding sits at the migration, and where a lock shows
// it the statement, that made the change.
func Incompatible(results []verify.Result) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		if r.Upgrade != nil || r.Before == nil || len(r.Steps) == 0 {
			continue
		}
		// Where each break first shows: the step whose migration made it.
		at := map[string]string{}
		prev := r.Before
		for _, s := range r.Steps {
			for _, b := range breaks(prev, s.Schema) {
				at[b.key] = s.File
			}
			prev = s.Schema
		}
		for _, b := range breaks(r.Before, prev) {
			file, ok := at[b.key]
			if !ok {
				file = r.Steps[len(r.Steps)-1].File
			}
			line := 0
			if b.table != "" {
				line = lockedAt(r.Traces, file, b.table)
			}
			f := finding.New(BackwardIncompatible, file, line, key("compat", r)+":"+b.key,
				fmt.Sprintf("The old application breaks on the new schema: %s. During the rollout, and after a rollback of the code, the previous release still runs against this schema.", b.what))
			f.Remediation = compatRemedy
			out = append(out, f)
		}
	}
	return out
}

// lockedAt is the line of the first statement of file that locked table
// in a way that changes it, 0 when no trace says.
func lockedAt(traces []verify.Trace, file, table string) int {
	for _, t := range traces {
		if t.File != file {
			continue
		}
		for _, l := range t.Locks {
			if l.Relation == table && pg.LockStrength(l.Took) >= pg.LockStrength("ShareUpdateExclusiveLock") {
				return t.Line
			}
		}
	}
	return 0
}

// breaks lists what in b the application written for a breaks on.
func breaks(a, b *pg.Snapshot) []brk {
	var out []brk
	tablesB := map[string]pg.Table{}
	for _, t := range b.Tables {
		tablesB[qual(t.Schema, t.Name)] = t
	}
	tablesA := map[string]bool{}
	for _, t := range a.Tables {
		tablesA[qual(t.Schema, t.Name)] = true
	}
	for _, t := range a.Tables {
		name := qual(t.Schema, t.Name)
		nt, ok := tablesB[name]
		if !ok {
			what := fmt.Sprintf("table %s is dropped: the old code's queries on it fail", name)
			for _, c := range b.Tables {
				if cn := qual(c.Schema, c.Name); !tablesA[cn] && sameColumns(t.Columns, c.Columns) {
					what = fmt.Sprintf("table %s is renamed to %s: the old code's queries on %s fail", name, cn, name)
					break
				}
			}
			out = append(out, brk{key: "table:" + name, table: name, what: what})
			continue
		}
		out = append(out, columnBreaks(name, t, nt)...)
	}

	enumsB := map[string]pg.Enum{}
	for _, e := range b.Enums {
		enumsB[qual(e.Schema, e.Name)] = e
	}
	for _, e := range a.Enums {
		name := qual(e.Schema, e.Name)
		ne, ok := enumsB[name]
		if !ok {
			out = append(out, brk{key: "enum:" + name, what: fmt.Sprintf("enum type %s is dropped", name)})
			continue
		}
		for _, l := range e.Labels {
			if !slices.Contains(ne.Labels, l) {
				out = append(out, brk{key: "enum:" + name + ":" + l, what: fmt.Sprintf("enum type %s loses the value %q: the old code's writes of it fail", name, l)})
			}
		}
	}

	viewsB := map[string]bool{}
	for _, v := range b.Views {
		viewsB[qual(v.Schema, v.Name)] = true
	}
	for _, v := range a.Views {
		if name := qual(v.Schema, v.Name); !viewsB[name] {
			out = append(out, brk{key: "view:" + name, table: name, what: fmt.Sprintf("%s %s is dropped: the old code's queries on it fail", v.Kind, name)})
		}
	}

	funcsB := map[string]bool{}
	for _, f := range b.Functions {
		funcsB[qual(f.Schema, f.Signature)] = true
	}
	for _, f := range a.Functions {
		sig := qual(f.Schema, f.Signature)
		if funcsB[sig] {
			continue
		}
		what := fmt.Sprintf("%s %s is dropped: the old code's calls of it fail", f.Kind, sig)
		name := f.Signature[:strings.IndexByte(f.Signature, '(')]
		for _, g := range b.Functions {
			if g.Schema == f.Schema && strings.HasPrefix(g.Signature, name+"(") && !slices.ContainsFunc(a.Functions, func(x pg.Function) bool { return x.Schema == g.Schema && x.Signature == g.Signature }) {
				what = fmt.Sprintf("%s %s changes signature to %s: the old code's calls with the old arguments fail", f.Kind, sig, qual(g.Schema, g.Signature))
				break
			}
		}
		out = append(out, brk{key: "function:" + sig, what: what})
	}
	return out
}

func columnBreaks(table string, a, b pg.Table) []brk {
	var out []brk
	colsB := map[string]pg.Column{}
	for _, c := range b.Columns {
		colsB[c.Name] = c
	}
	colsA := map[string]bool{}
	for _, c := range a.Columns {
		colsA[c.Name] = true
	}
	renamed := map[string]bool{}
	for i, c := range a.Columns {
		name := table + "." + c.Name
		nc, ok := colsB[c.Name]
		if !ok {
			what := fmt.Sprintf("column %s is dropped: the old code's queries that name it fail", name)
			// A rename keeps the column's place and type.
			if i < len(b.Columns) && !colsA[b.Columns[i].Name] && b.Columns[i].Type == c.Type {
				what = fmt.Sprintf("column %s is renamed to %s: the old code's queries that name %s fail", name, b.Columns[i].Name, c.Name)
				renamed[b.Columns[i].Name] = true
			}
			out = append(out, brk{key: "column:" + name, table: table, what: what})
			continue
		}
		if nc.Type != c.Type {
			out = append(out, brk{key: "column-type:" + name, table: table,
				what: fmt.Sprintf("column %s changes type %s → %s: the old code reads and writes it as %s", name, c.Type, nc.Type, c.Type)})
		}
		if nc.NotNull && !c.NotNull && !hasDefault(nc) {
			out = append(out, brk{key: "column-not-null:" + name, table: table,
				what: fmt.Sprintf("column %s becomes NOT NULL without a default: the old code's INSERTs that leave it out fail", name)})
		}
	}
	for _, c := range b.Columns {
		if !colsA[c.Name] && !renamed[c.Name] && c.NotNull && !hasDefault(c) {
			name := table + "." + c.Name
			out = append(out, brk{key: "column-new-not-null:" + name, table: table,
				what: fmt.Sprintf("the new column %s is NOT NULL without a default: the old code's INSERTs into %s, which do not know it, fail", name, table)})
		}
	}
	return out
}

func hasDefault(c pg.Column) bool { return c.Default != "" || c.Identity != "" || c.Generated != "" }

func sameColumns(a, b []pg.Column) bool {
	return slices.EqualFunc(a, b, func(x, y pg.Column) bool { return x.Name == y.Name && x.Type == y.Type })
}

func qual(schema, name string) string { return schema + "." + name }
