package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/migrate"
)

const (
	rewrittenRemediation  = "Leave released migrations as they are: revert this change to the file and put the change in a new migration with a version above the newest one. If the released migration is broken, fix forward with a new migration; databases that ran the old one need it too."
	outOfOrderRemediation = "Give the new migration a version above the newest released one (rename the file; regenerate its timestamp after rebasing on the base branch), so every database applies the migrations in the same order."
)

// MigrationHistory compares one migration directory across the change:
// what production has run must stay as it ran, and what is new must come
// after it. base or head is nil when the directory is new or gone.
func MigrationHistory(base, head *migrate.Set) []finding.Finding {
	if base == nil || head == nil {
		return nil
	}
	byKey := func(s *migrate.Set) map[string]int {
		m := make(map[string]int, len(s.Migrations))
		for i, mg := range s.Migrations {
			m[mg.Key()] = i
		}
		return m
	}
	bk, hk := byKey(base), byKey(head)
	var out []finding.Finding

	// Renumbered: gone under its old version, back under a new one with
	// the same name and the same statements.
	renumbered := map[string]bool{} // head keys
	var gone []migrate.Migration
	for _, b := range base.Migrations {
		if b.Repeatable {
			continue // Flyway reapplies R__ migrations whenever they change
		}
		j, ok := hk[b.Key()]
		if !ok {
			gone = append(gone, b)
			continue
		}
		h := head.Migrations[j]
		if !sameStatements(b.Up, h.Up) {
			f := finding.New(HistoryRewritten, scriptFile(h), scriptLine(h), "modified:"+b.Key(),
				fmt.Sprintf("Migration %s (version %s) is released on the base side and changed at head. Databases that already ran it will not run it again, so the change never reaches them, and fresh databases get a schema production does not have.", scriptFile(h), b.Version))
			f.Remediation = rewrittenRemediation
			out = append(out, f)
		}
	}
	for _, b := range gone {
		var moved *migrate.Migration
		for i := range head.Migrations {
			h := &head.Migrations[i]
			if _, old := bk[h.Key()]; !old && !renumbered[h.Key()] && h.Name == b.Name && sameStatements(b.Up, h.Up) {
				moved = h
				break
			}
		}
		if moved != nil {
			renumbered[moved.Key()] = true
			f := finding.New(HistoryRewritten, scriptFile(*moved), scriptLine(*moved), "renumbered:"+b.Key(),
				fmt.Sprintf("Migration %s is renumbered: version %s → %s. Databases that ran it as %s will run it again as %s.", b.Name, b.Version, moved.Version, b.Version, moved.Version))
			f.Remediation = rewrittenRemediation
			out = append(out, f)
			continue
		}
		f := finding.New(HistoryRewritten, scriptFile(b), 0, "deleted:"+b.Key(),
			fmt.Sprintf("Migration %s (version %s) is released on the base side and deleted at head. Databases that ran it keep what it did; fresh databases no longer get it.", scriptFile(b), b.Version))
		f.Remediation = rewrittenRemediation
		out = append(out, f)
	}

	// Out of order: new, and before the last released one in apply order.
	last := -1
	for j, h := range head.Migrations {
		if _, old := bk[h.Key()]; old && !h.Repeatable {
			last = j
		}
	}
	for j, h := range head.Migrations {
		if _, old := bk[h.Key()]; old || h.Repeatable || renumbered[h.Key()] || j > last {
			continue
		}
		newest := head.Migrations[last]
		f := finding.New(OutOfOrder, scriptFile(h), scriptLine(h), "order:"+h.Key(),
			fmt.Sprintf("New migration %s (version %s) sorts before %s (version %s), the newest migration already released. golang-migrate skips a version below the newest applied one, dbmate applies it after the newer ones (and refuses with --strict), Flyway refuses to migrate (unless outOfOrder), and goose refuses unless run with -allow-missing.", scriptFile(h), h.Version, scriptFile(newest), newest.Version))
		f.Remediation = outOfOrderRemediation
		out = append(out, f)
	}
	return out
}

func sameStatements(a, b *migrate.Script) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.EqualFunc(a.Statements, b.Statements, func(x, y migrate.Statement) bool { return code(x.SQL) == code(y.SQL) }) &&
		a.InTransaction == b.InTransaction
}

// code is a statement without the comments and space around it: editing
// a comment above a released statement changes nothing that ran.
func code(s string) string {
	for {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return ""
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
		}
		return strings.TrimRight(s, "; \t\r\n")
	}
}

func scriptFile(m migrate.Migration) string {
	if m.Up != nil {
		return m.Up.File
	}
	if m.Down != nil {
		return m.Down.File
	}
	return ""
}

func scriptLine(m migrate.Migration) int {
	if m.Up != nil && len(m.Up.Statements) > 0 {
		return m.Up.Statements[0].Line
	}
	return 1
}
