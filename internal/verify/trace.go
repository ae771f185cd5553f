package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

// Trace is what one new head statement did, as Postgres reports it, to
// the relations that existed before the head migrations: the locks it
// took and the relations it rewrote. The verdict comes from pg_locks and
// pg_class, never from the statement's text, so a DO block or a function
// that alters a table inside is traced like the ALTER itself.
type Trace struct {
	File      string
	Line      int
	Statement string
	// Locks are the locks the statement took on pre-existing tables,
	// partitioned tables, materialized views and views, the strongest per
	// relation, by relation name.
	Locks []Lock
	// Rewrites are the pre-existing relations whose file the statement
	// replaced: the table (or index) was written again in full.
	Rewrites []Rewrite
	// LockTimeout is the session's lock_timeout while the statement ran,
	// as the migrations set it ("0": none).
	LockTimeout string
	// Untraced says the statement cannot run in a transaction block (as
	// CREATE INDEX CONCURRENTLY): it ran on its own, and its locks could
	// not be read. Its rewrites were.
	Untraced bool
}

// Lock is what a statement did with its locks on one relation.
type Lock struct {
	Relation string // schema.name
	Kind     string // as pg.Relation.Kind
	// Mode is the strongest lock the transaction holds on the relation
	// after the statement (as pg_locks names it: AccessExclusiveLock,
	// ShareLock, …): what blocks others while the statement runs. Took is
	// the strongest mode the statement itself acquired, "" when it needed
	// none it did not already hold: only acquiring can wait behind others.
	Mode, Took string
	Rows       int64 // the relation's rows before the head migrations
	// Scanned says the statement read the relation in full while holding
	// the lock (a sequential scan in its transaction): the lock lasts as
	// long as the table is big, not a moment.
	Scanned bool
	// Rewritten says the statement gave the relation a new file.
	Rewritten bool
}

// Rewrite is a relation whose file a statement replaced.
type Rewrite struct {
	Relation string // schema.name
	Kind     string // as pg.Relation.Kind
	Table    string // for an index, the table it is on
	Rows     int64
}

// tracer follows the head statements of the upgrade path.
type tracer struct {
	db     *pg.DB
	rels   map[uint32]pg.Relation
	oids   []uint32
	files  map[uint32]uint32 // current filenode of each pre-existing relation
	traces []Trace
}

func newTracer(ctx context.Context, db *pg.DB) (*tracer, error) {
	rels, err := db.Relations(ctx)
	if err != nil {
		return nil, err
	}
	t := &tracer{db: db, rels: map[uint32]pg.Relation{}, files: map[uint32]uint32{}}
	for _, r := range rels {
		t.rels[r.OID], t.files[r.OID] = r, r.Filenode
		t.oids = append(t.oids, r.OID)
	}
	return t, nil
}

// held reads the session's state.
func (t *tracer) held(ctx context.Context) (*pg.Held, error) {
	h, err := t.db.Held(ctx, t.oids)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// record turns the change from before to after into a Trace of st.
func (t *tracer) record(s *migrate.Script, st migrate.Statement, before, after *pg.Held, untraced bool) {
	tr := Trace{File: s.File, Line: st.Line, Statement: st.SQL, LockTimeout: after.LockTimeout, Untraced: untraced}
	rewritten := map[uint32]bool{}
	for _, oid := range t.oids {
		r := t.rels[oid]
		fn, ok := after.Filenodes[oid]
		if !ok || r.Filenode == 0 || fn == t.files[oid] {
			continue
		}
		t.files[oid], rewritten[oid] = fn, true
		rows := r.Rows
		if r.Table != "" {
			rows = t.rowsOf(r.Table)
		}
		tr.Rewrites = append(tr.Rewrites, Rewrite{Relation: r.QName(), Kind: r.Kind, Table: r.Table, Rows: rows})
	}
	for _, oid := range t.oids {
		r := t.rels[oid]
		if r.Kind == "index" {
			continue
		}
		l := Lock{Relation: r.QName(), Kind: r.Kind, Rows: r.Rows, Rewritten: rewritten[oid]}
		for _, m := range after.Locks[oid] {
			if pg.LockStrength(m) > pg.LockStrength(l.Mode) {
				l.Mode = m
			}
			if (before == nil || !slices.Contains(before.Locks[oid], m)) && pg.LockStrength(m) > pg.LockStrength(l.Took) {
				l.Took = m
			}
		}
		var scans int64
		if before != nil {
			scans = before.Scans[oid]
		}
		l.Scanned = after.Scans[oid] > scans
		if l.Mode != "" && (l.Took != "" || l.Scanned || l.Rewritten) {
			tr.Locks = append(tr.Locks, l)
		}
	}
	slices.SortFunc(tr.Locks, func(a, b Lock) int { return strings.Compare(a.Relation, b.Relation) })
	slices.SortFunc(tr.Rewrites, func(a, b Rewrite) int { return strings.Compare(a.Relation, b.Relation) })
	if len(tr.Locks) > 0 || len(tr.Rewrites) > 0 {
		t.traces = append(t.traces, tr)
	}
}

func (t *tracer) rowsOf(table string) int64 {
	for _, r := range t.rels {
		if r.QName() == table {
			return r.Rows
		}
	}
	return 0
}

// apply runs one head script statement by statement, reading what each
// took before its transaction ends. A script that runs in a transaction
// runs in one, as the tool would run it; a statement of a script that
// does not runs in a transaction of its own, unless Postgres refuses it
// one (CREATE INDEX CONCURRENTLY, VACUUM): then it runs on its own,
// untraced.
func (t *tracer) apply(ctx context.Context, phase string, s *migrate.Script) (*Failure, error) {
	fail := func(st migrate.Statement, err error, inTx bool) (*Failure, error) {
		var pe *pg.Error
		if !errors.As(err, &pe) || ctx.Err() != nil || pe.ServerTrouble() {
			return nil, fmt.Errorf("%s:%d: %w", s.File, st.Line, err)
		}
		line := st.Line
		if pe.Position > 0 {
			line = st.LineAt(pe.Position)
		}
		if inTx {
			t.db.Exec(ctx, "ROLLBACK")
		}
		return &Failure{Phase: phase, File: s.File, Line: line, Statement: st.SQL, Err: pe}, nil
	}
	// A transaction's state is read when it begins too: the scan
	// counters hold counts of earlier transactions that the server has not
	// flushed yet.
	begin := func() (*pg.Held, error) {
		if err := t.db.Exec(ctx, "BEGIN"); err != nil {
			return nil, err
		}
		return t.held(ctx)
	}
	// Each migration is judged on the lock_timeout it sets itself: in
	// production it may run in a session of its own.
	if err := t.db.Exec(ctx, "SET lock_timeout = 0"); err != nil {
		return nil, err
	}
	var before *pg.Held
	var err error
	if s.InTransaction {
		if before, err = begin(); err != nil {
			return nil, err
		}
	}
	for _, st := range s.Statements {
		own := !s.InTransaction
		if own {
			if before, err = begin(); err != nil {
				return nil, err
			}
		}
		err = t.db.Exec(ctx, st.SQL)
		untraced := false
		var pe *pg.Error
		if own && errors.As(err, &pe) && pe.SQLState == "25001" { // cannot run inside a transaction block
			if err := t.db.Exec(ctx, "ROLLBACK"); err != nil {
				return nil, err
			}
			own, untraced, before = false, true, nil
			err = t.db.Exec(ctx, st.SQL)
		}
		if err != nil {
			return fail(st, err, s.InTransaction || own)
		}
		after, err := t.held(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", s.File, st.Line, err)
		}
		t.record(s, st, before, after, untraced)
		if own {
			if err := t.db.Exec(ctx, "COMMIT"); err != nil {
				return fail(st, err, false)
			}
		}
		before = after
	}
	if s.InTransaction {
		if err := t.db.Exec(ctx, "COMMIT"); err != nil {
			last := migrate.Statement{Line: s.Line}
			if n := len(s.Statements); n > 0 {
				last = s.Statements[n-1]
			}
			return fail(last, err, false)
		}
	}
	return nil, nil
}
