package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrAmcheckMissing is wrapped by Amcheck's error when the amcheck
// extension cannot be created, so callers can tell "cannot check" from a
// failed check.
var ErrAmcheckMissing = errors.New("pg: amcheck extension is missing or cannot be created (Debian ships it in the server package, elsewhere in postgresql-contrib)")

// AmcheckOptions configures Amcheck. The zero value runs bt_index_check
// on one session with the session's statement_timeout.
type AmcheckOptions struct {
	// Parent runs bt_index_parent_check, which also checks the links
	// between levels but holds a ShareLock on each table, blocking writes.
	Parent bool
	// PerIndexTimeout is the statement_timeout of each check (index or
	// table); 0 keeps the session's. A check that runs out is reported as
	// a Problem with Timeout set, and the others still run.
	PerIndexTimeout time.Duration
	// Progress gets one line per index or table checked.
	Progress io.Writer
	// Jobs > 1 runs that many sessions in parallel (the extra ones are
	// opened with this session's settings and closed at the end).
	Jobs int
	// NoCreate leaves CREATE EXTENSION out, for a read-only session (a
	// replica, an audit of production): Amcheck then fails with
	// ErrAmcheckMissing unless amcheck is already installed in this
	// database, as pg_extension says.
	NoCreate bool
	// Indexes, "schema.index", limits the run to those B-tree indexes
	// and leaves the heaps out: the recheck after a REINDEX.
	Indexes []string
}

// AmcheckReport is what Amcheck found.
type AmcheckReport struct {
	// Checked counts the B-tree indexes checked, failed ones included.
	Checked int
	// Tables counts the tables given to verify_heapam (0 before PG14).
	Tables   int
	Problems []IndexProblem
}

// IndexProblem is one failed check. Table is set for both kinds; Index
// is empty for a heap problem.
type IndexProblem struct {
	Schema, Table, Index string
	Kind                 string // "index" or "heap"
	Message              string
	SQLState             string // "" for heap problems, which verify_heapam returns as rows
	Detail               string // amcheck's DETAIL: the tids and LSN involved
	Timeout              bool
}

// amcheckTask is one statement's worth of checking.
type amcheckTask struct {
	schema, table, index string // index "" for a heap check
	oid                  uint32
}

// Amcheck verifies every valid B-tree index in user schemas with amcheck
// and, on PG14+, every user table's heap with verify_heapam. It is what
// finds indexes left out of order by a collation change (glibc upgrade).
// It creates the extension if needed, so it changes the database; run it
// on a scenario database or a copy, or set NoCreate. The session must not
// be inside a transaction: every check is its own statement so one
// failure does not abort the rest. Errors are for failures to run at all (no amcheck, lost
// connection, ctx done), never for corruption.
func (c *Conn) Amcheck(ctx context.Context, opts AmcheckOptions) (AmcheckReport, error) {
	var rep AmcheckReport
	if st := c.pgx.PgConn().TxStatus(); st != 'I' {
		return rep, errors.New("pg: Amcheck needs a session outside a transaction block")
	}
	if !opts.NoCreate {
		if err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS amcheck"); err != nil {
			return rep, fmt.Errorf("%w: %w", ErrAmcheckMissing, err)
		}
	}
	// Calls are qualified with the extension's schema, so a search_path
	// set by the migrations under test cannot hide the functions.
	var schema, version string
	var hasHeap bool
	err := c.pgx.QueryRow(ctx, `
		SELECT n.nspname, e.extversion,
		       EXISTS (SELECT 1 FROM pg_proc p WHERE p.proname = 'verify_heapam' AND p.pronamespace = n.oid)
		FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'amcheck'`).Scan(&schema, &version, &hasHeap)
	if errors.Is(err, pgx.ErrNoRows) && opts.NoCreate {
		return rep, fmt.Errorf("%w: not installed in this database, and NoCreate leaves it so (CREATE EXTENSION amcheck first)", ErrAmcheckMissing)
	}
	if err != nil {
		return rep, fmt.Errorf("pg: amcheck: find the extension: %w", convertErr(err))
	}
	fn := "bt_index_check"
	if opts.Parent {
		fn = "bt_index_parent_check"
	}
	args := "index => $1::oid::regclass, heapallindexed => true"
	// amcheck 1.4 (PG17) can also look for duplicates in unique indexes,
	// which is how a collation change shows in a unique index whose order
	// still looks right. Its parent check has no defaults, hence
	// rootdescend.
	if versionLess("1.3", version) {
		if opts.Parent {
			args += ", rootdescend => false"
		}
		args += ", checkunique => true"
	}
	q := pgx.Identifier{schema}.Sanitize()
	indexSQL := fmt.Sprintf("SELECT %s.%s(%s)", q, fn, args)
	heapSQL := fmt.Sprintf("SELECT blkno, offnum, attnum, msg FROM %s.verify_heapam(relation => $1::oid::regclass, check_toast => true)", q)

	tasks, err := amcheckTasks(ctx, c, hasHeap && len(opts.Indexes) == 0)
	if err != nil {
		return rep, err
	}
	if len(opts.Indexes) > 0 {
		want := map[string]bool{}
		for _, ix := range opts.Indexes {
			want[ix] = true
		}
		tasks = slices.DeleteFunc(tasks, func(t amcheckTask) bool { return !want[t.schema+"."+t.index] })
	}
	for _, t := range tasks {
		if t.index == "" {
			rep.Tables++
		} else {
			rep.Checked++
		}
	}

	jobs := opts.Jobs
	if jobs < 1 {
		jobs = 1
	}
	if jobs > len(tasks) {
		jobs = max(len(tasks), 1)
	}
	conns := []*Conn{c}
	defer func() {
		for _, w := range conns[1:] {
			w.Close()
		}
	}()
	for len(conns) < jobs {
		w, err := c.clone(ctx)
		if err != nil {
			return rep, err
		}
		conns = append(conns, w)
	}
	if opts.PerIndexTimeout > 0 {
		saved := c.timeout
		for _, w := range conns {
			if err := w.SetStatementTimeout(ctx, opts.PerIndexTimeout); err != nil {
				return rep, err
			}
		}
		defer func() {
			// A fresh context: the caller's may be what ended the run.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = c.SetStatementTimeout(rctx, saved)
		}()
	}

	var (
		mu       sync.Mutex
		problems []IndexProblem
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	take := func() (amcheckTask, bool) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr != nil || next == len(tasks) {
			return amcheckTask{}, false
		}
		next++
		return tasks[next-1], true
	}
	for _, w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t, ok := take()
				if !ok {
					return
				}
				t0 := time.Now()
				var found []IndexProblem
				var err error
				if t.index == "" {
					found, err = checkHeap(ctx, w, heapSQL, t)
				} else {
					found, err = checkIndex(ctx, w, indexSQL, t)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
				} else {
					problems = append(problems, found...)
					if opts.Progress != nil {
						fmt.Fprintln(opts.Progress, progressLine(t, found, time.Since(t0)))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return rep, firstErr
	}
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if a.Schema != b.Schema {
			return a.Schema < b.Schema
		}
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		return a.Index < b.Index
	})
	rep.Problems = problems
	return rep, nil
}

// userSchemaFilter keeps system and temp schemas out; n is pg_namespace.
// Other sessions' temp tables cannot be read, and ours go with the session.
const userSchemaFilter = `n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp_'`

func amcheckTasks(ctx context.Context, c *Conn, heap bool) ([]amcheckTask, error) {
	// relkind 'i' only: a partitioned index has no storage to check, its
	// partitions' indexes are listed themselves.
	q := `
		SELECT n.nspname, t.relname, i.relname, i.oid
		FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = i.relnamespace
		JOIN pg_am am ON am.oid = i.relam
		WHERE am.amname = 'btree' AND i.relkind = 'i' AND x.indisvalid AND x.indisready
		  AND i.relpersistence <> 't' AND ` + userSchemaFilter
	if heap {
		q += `
		UNION ALL
		SELECT n.nspname, t.relname, '', t.oid
		FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE t.relkind IN ('r', 'm') AND t.relpersistence <> 't' AND ` + userSchemaFilter
	}
	q += ` ORDER BY 1, 2, 3`
	rows, err := c.pgx.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("pg: amcheck: list indexes: %w", convertErr(err))
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (amcheckTask, error) {
		var t amcheckTask
		err := r.Scan(&t.schema, &t.table, &t.index, &t.oid)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("pg: amcheck: list indexes: %w", convertErr(err))
	}
	return tasks, nil
}

// checkIndex turns a server error into a finding; only transport errors
// and ctx's end stop the run, since after those no later check can run.
func checkIndex(ctx context.Context, c *Conn, sql string, t amcheckTask) ([]IndexProblem, error) {
	_, err := c.pgx.Exec(ctx, sql, t.oid)
	if err == nil {
		return nil, nil
	}
	return serverProblem(ctx, t, "index", err)
}

func checkHeap(ctx context.Context, c *Conn, sql string, t amcheckTask) ([]IndexProblem, error) {
	rows, err := c.pgx.Query(ctx, sql, t.oid)
	if err != nil {
		return serverProblem(ctx, t, "heap", err)
	}
	var out []IndexProblem
	for rows.Next() {
		var blk int64
		var off, att *int32
		var msg string
		if err := rows.Scan(&blk, &off, &att, &msg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pg: verify_heapam %s.%s: %w", t.schema, t.table, convertErr(err))
		}
		where := fmt.Sprintf("block %d", blk)
		if off != nil {
			where += fmt.Sprintf(", offset %d", *off)
		}
		if att != nil {
			where += fmt.Sprintf(", attribute %d", *att)
		}
		out = append(out, IndexProblem{Schema: t.schema, Table: t.table, Kind: "heap", Message: where + ": " + msg})
	}
	if err := rows.Err(); err != nil {
		return serverProblem(ctx, t, "heap", err)
	}
	return out, nil
}

func serverProblem(ctx context.Context, t amcheckTask, kind string, err error) ([]IndexProblem, error) {
	err = convertErr(err)
	var pe *Error
	// Class 42 (undefined function, permission denied) is a mistake in
	// how we call amcheck, which would repeat for every index, not a
	// finding about this one.
	if !errors.As(err, &pe) || ctx.Err() != nil || strings.HasPrefix(pe.SQLState, "42") {
		what := t.schema + "." + t.table
		if t.index != "" {
			what = t.schema + "." + t.index
		}
		return nil, fmt.Errorf("pg: amcheck %s: %w", what, err)
	}
	return []IndexProblem{{
		Schema: t.schema, Table: t.table, Index: t.index, Kind: kind,
		Message:  pe.Message,
		SQLState: pe.SQLState,
		Detail:   pe.Detail,
		// The context is live, so this cancel came from statement_timeout.
		Timeout: pe.SQLState == SQLStateQueryCanceled,
	}}, nil
}

func progressLine(t amcheckTask, found []IndexProblem, d time.Duration) string {
	what := "index " + t.schema + "." + t.index
	if t.index == "" {
		what = "table " + t.schema + "." + t.table
	}
	d = d.Round(time.Millisecond)
	switch {
	case len(found) == 0:
		return fmt.Sprintf("amcheck: %s ok (%s)", what, d)
	case found[0].Timeout:
		return fmt.Sprintf("amcheck: %s TIMEOUT (%s)", what, d)
	case len(found) == 1:
		return fmt.Sprintf("amcheck: %s FAILED (%s): %s", what, d, found[0].Message)
	default:
		return fmt.Sprintf("amcheck: %s FAILED (%s): %d problems, first: %s", what, d, len(found), found[0].Message)
	}
}

// clone opens another session on the same database with the same
// statement_timeout. The config is copied from the live session because a
// DB's database name is not in its dsn.
func (c *Conn) clone(ctx context.Context) (*Conn, error) {
	pc, err := pgx.ConnectConfig(ctx, c.pgx.Config())
	if err != nil {
		return nil, fmt.Errorf("pg: connect to %s: %w", Redact(c.dsn), convertErr(err))
	}
	w := &Conn{pgx: pc, dsn: c.dsn}
	if err := w.SetStatementTimeout(ctx, c.timeout); err != nil {
		pc.Close(context.Background())
		return nil, err
	}
	// A read-only audit stays read-only on every session it opens.
	var ro string
	if err := c.pgx.QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&ro); err != nil {
		w.Close()
		return nil, convertErr(err)
	}
	if ro == "on" {
		if err := w.Exec(ctx, "SET default_transaction_read_only = on"); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}
