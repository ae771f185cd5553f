package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breakwater-ci/breakwater/internal/pg"
)

const auditSynopsis = `collation-audit --postgres-url URL [flags]

Audits an existing database, production included, for what a collation
library change (glibc or ICU upgrade, new base image) would corrupt: the
indexes ordered by a collation other than C/POSIX, the collations whose
recorded version is not the library's, and a REINDEX INDEX CONCURRENTLY
script to rebuild them. The session is read-only and runs no DDL; only the
database in the URL is audited.

--amcheck also runs bt_index_check on every B-tree index (verify_heapam on
each table on PG14+): AccessShareLock only, so safe on a replica, but it
reads everything. A superuser must have run CREATE EXTENSION amcheck (on
the primary) and granted this user EXECUTE on its functions.

Exit codes: 0 no problem found, 1 collation version mismatches or amcheck
problems found, 2 the audit could not run.`

// auditSessionHook, when set by a test, sees the session once it has been
// made read-only, before anything is read.
var auditSessionHook func(context.Context, *pg.Conn)

// auditConnectTimeout bounds the connection, so a firewalled host fails
// instead of hanging.
const auditConnectTimeout = 30 * time.Second

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collation-audit", auditSynopsis, stderr)
	pgURL := fs.String("postgres-url", "", "`URL` of the database to audit (default: $BREAKWATER_POSTGRES_URL); its password is never printed")
	amcheck := fs.Bool("amcheck", false, "also run bt_index_check on every B-tree index, with AccessShareLock only (never the parent check)")
	jobs := fs.Int("jobs", 1, "`N` sessions running amcheck in parallel")
	indexTimeout := fs.Duration("index-timeout", 5*time.Minute, "time budget of each index or table amcheck checks (`DURATION`; 0 for none);\none that runs out is reported as a problem and the others still run")
	format := fs.String("format", "text", "output `FORMAT`: text or json")
	output := fs.String("output", "", "write the report to `FILE` instead of standard output")
	quiet := fs.Bool("quiet", false, "no amcheck progress lines on standard error")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	fail := func(format string, args ...any) int {
		// Redact again: a message may quote the URL however it was built.
		fmt.Fprintln(stderr, pg.Redact("breakwater collation-audit: "+fmt.Sprintf(format, args...)))
		return ExitFailed
	}
	if *format != "text" && *format != "json" {
		return fail("unknown --format %q (want text or json)", *format)
	}
	if *jobs < 1 {
		return fail("--jobs: %d is not a positive number", *jobs)
	}
	if *indexTimeout < 0 {
		return fail("--index-timeout: %s is negative", *indexTimeout)
	}
	if *pgURL == "" {
		*pgURL = os.Getenv("BREAKWATER_POSTGRES_URL")
	}
	if *pgURL == "" {
		return fail("--postgres-url is required (or set BREAKWATER_POSTGRES_URL)")
	}

	cctx, cancel := context.WithTimeout(ctx, auditConnectTimeout)
	conn, err := pg.Connect(cctx, *pgURL)
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	defer conn.Close()
	if err := readOnlySession(ctx, conn); err != nil {
		return fail("%v", err)
	}
	if auditSessionHook != nil {
		auditSessionHook(ctx, conn)
	}

	rep := auditReport{Indexes: []auditIndex{}, Mismatches: []auditMismatch{}}
	if err := conn.Pgx().QueryRow(ctx, "SELECT current_database(), current_setting('server_version')").Scan(&rep.Database, &rep.ServerVersion); err != nil {
		return fail("read the database name: %v", err)
	}
	ix, err := conn.CollationIndexes(ctx)
	if err != nil {
		return fail("%v", err)
	}
	mm, err := conn.CollationMismatches(ctx)
	if err != nil {
		return fail("%v", err)
	}
	for _, x := range ix {
		rep.Indexes = append(rep.Indexes, auditIndex{Schema: x.Schema, Table: x.Table, Index: x.Index, Unique: x.Unique,
			Collations: x.Collations, Provider: x.Provider, SizeBytes: x.SizeBytes, Definition: x.Definition})
	}
	for _, m := range mm {
		rep.Mismatches = append(rep.Mismatches, auditMismatch{Object: m.Object, Kind: m.Kind, Schema: m.Schema, Name: m.Name,
			Recorded: m.Recorded, Actual: m.Actual})
	}
	rep.ReindexScript = pg.ReindexScript(ix, mm)

	if *amcheck {
		opts := pg.AmcheckOptions{NoCreate: true, Jobs: *jobs, PerIndexTimeout: *indexTimeout}
		if *indexTimeout == 0 {
			// PerIndexTimeout 0 keeps the session's; make that none.
			if err := conn.SetStatementTimeout(ctx, 0); err != nil {
				return fail("%v", err)
			}
		}
		if !*quiet {
			opts.Progress = &prefixWriter{w: stderr}
		}
		ar, err := conn.Amcheck(ctx, opts)
		var pe *pg.Error
		switch {
		case errors.Is(err, pg.ErrAmcheckMissing):
			// The read-only session leaves the extension alone.
			return fail("--amcheck: the amcheck extension is not installed in database %q, and the audit installs nothing: have a superuser "+
				"run CREATE EXTENSION amcheck in it (on the primary; replicas get it from there) and grant this user EXECUTE on its functions, "+
				"or run without --amcheck", rep.Database)
		case errors.As(err, &pe) && pe.SQLState == "42501":
			return fail("--amcheck: %v\n(amcheck lets only superusers execute its functions unless granted: GRANT EXECUTE ON FUNCTION bt_index_check and verify_heapam to this user)", err)
		case err != nil:
			return fail("--amcheck: %v", err)
		}
		a := &auditAmcheck{Checked: ar.Checked, Tables: ar.Tables, Problems: []auditProblem{}}
		for _, p := range ar.Problems {
			a.Problems = append(a.Problems, auditProblem{Schema: p.Schema, Table: p.Table, Index: p.Index, Kind: p.Kind,
				Message: p.Message, SQLState: p.SQLState, Detail: p.Detail, Timeout: p.Timeout})
		}
		rep.Amcheck = a
	}

	// Render fully before writing, so a failure leaves no partial report.
	var buf bytes.Buffer
	if *format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fail("render report: %v", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	} else {
		rep.renderText(&buf)
	}
	if *output == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fail("write report: %v", err)
		}
	} else {
		if err := os.WriteFile(*output, buf.Bytes(), 0o644); err != nil {
			return fail("write report: %v", err)
		}
		fmt.Fprintf(stderr, "breakwater: %s; report written to %s\n", rep.summary(), *output)
	}
	if rep.failed() {
		return ExitFindings
	}
	return ExitClean
}

// readOnlySession makes every later transaction of the session read-only
// and checks that the server took it, so nothing the audit runs can write.
func readOnlySession(ctx context.Context, c *pg.Conn) error {
	if err := c.Exec(ctx, "SET default_transaction_read_only = on"); err != nil {
		return fmt.Errorf("make the session read-only: %w", err)
	}
	var v string
	if err := c.Pgx().QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&v); err != nil {
		return fmt.Errorf("make the session read-only: %w", err)
	}
	if v != "on" {
		return fmt.Errorf("make the session read-only: default_transaction_read_only is %q after SET", v)
	}
	return nil
}

// auditReport is collation-audit's JSON output (--format json), one object:
//
//	database        the database audited; the others of the server need runs of their own
//	server_version  the server's version, as SHOW server_version
//	indexes         the indexes that order text by a collation other than C/POSIX, [] for none:
//	  schema, table, index  where the index is
//	  unique                true for a unique index, whose rebuild may fail on duplicates
//	  collations            sorted: "default (en_US.utf8, libc)" for the database default, else "name (provider)"
//	  provider              libc, icu or mixed
//	  size_bytes            the index's size (pg_relation_size)
//	  definition            its CREATE INDEX statement (pg_get_indexdef)
//	mismatches      the collations, and the database's default, whose recorded version is not
//	                what the library reports now, [] for none:
//	  object                `collation "name"` or `database "name"`
//	  kind                  collation or database
//	  schema, name          the collation's schema and name; schema is "" for the database
//	  recorded              the version recorded at creation or at the last REFRESH
//	  actual                the version the library reports now, "" for none
//	reindex_script  SQL: REINDEX INDEX CONCURRENTLY of each index, then a REFRESH of each mismatch
//	amcheck         null without --amcheck, else:
//	  checked               the B-tree indexes checked
//	  tables                the tables checked with verify_heapam (0 before PG14)
//	  problems              [] for none, else each failed check: schema, table, index ("" for a
//	                        table), kind (index or heap), message, sqlstate ("" for a heap
//	                        problem), detail (amcheck's DETAIL), timeout (true when the check
//	                        ran out of --index-timeout rather than found corruption)
//
// The exit code is 1 when mismatches or amcheck problems are not empty.
type auditReport struct {
	Database      string          `json:"database"`
	ServerVersion string          `json:"server_version"`
	Indexes       []auditIndex    `json:"indexes"`
	Mismatches    []auditMismatch `json:"mismatches"`
	ReindexScript string          `json:"reindex_script"`
	Amcheck       *auditAmcheck   `json:"amcheck"`
}

type auditIndex struct {
	Schema     string   `json:"schema"`
	Table      string   `json:"table"`
	Index      string   `json:"index"`
	Unique     bool     `json:"unique"`
	Collations []string `json:"collations"`
	Provider   string   `json:"provider"`
	SizeBytes  int64    `json:"size_bytes"`
	Definition string   `json:"definition"`
}

type auditMismatch struct {
	Object   string `json:"object"`
	Kind     string `json:"kind"`
	Schema   string `json:"schema"`
	Name     string `json:"name"`
	Recorded string `json:"recorded"`
	Actual   string `json:"actual"`
}

type auditAmcheck struct {
	Checked  int            `json:"checked"`
	Tables   int            `json:"tables"`
	Problems []auditProblem `json:"problems"`
}

type auditProblem struct {
	Schema   string `json:"schema"`
	Table    string `json:"table"`
	Index    string `json:"index"`
	Kind     string `json:"kind"`
	Message  string `json:"message"`
	SQLState string `json:"sqlstate"`
	Detail   string `json:"detail"`
	Timeout  bool   `json:"timeout"`
}

func (r *auditReport) failed() bool {
	return len(r.Mismatches) > 0 || r.Amcheck != nil && len(r.Amcheck.Problems) > 0
}

func (r *auditReport) summary() string {
	s := fmt.Sprintf("%s, %s", plural(len(r.Indexes), "collation-dependent index", "collation-dependent indexes"),
		plural(len(r.Mismatches), "collation version mismatch", "collation version mismatches"))
	if r.Amcheck != nil {
		s += ", " + plural(len(r.Amcheck.Problems), "amcheck problem", "amcheck problems")
	}
	return s
}

func (r *auditReport) renderText(w io.Writer) {
	fmt.Fprintf(w, "Collation audit of database %q (PostgreSQL %s)\n", r.Database, r.ServerVersion)

	var unique int
	var size int64
	for _, x := range r.Indexes {
		if x.Unique {
			unique++
		}
		size += x.SizeBytes
	}
	fmt.Fprintf(w, "\nCollation-dependent indexes: %d (%d unique, %s)\n", len(r.Indexes), unique, humanSize(size))
	if len(r.Indexes) == 0 {
		fmt.Fprintln(w, "  none: no index orders text by a collation other than C/POSIX")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, x := range r.Indexes {
			u := "not unique"
			if x.Unique {
				u = "unique"
			}
			fmt.Fprintf(tw, "  %s.%s\ton %s.%s\t%s\t%s\t%s\n", x.Schema, x.Index, x.Schema, x.Table,
				strings.Join(x.Collations, ", "), humanSize(x.SizeBytes), u)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nCollation version mismatches: %d\n", len(r.Mismatches))
	if len(r.Mismatches) == 0 {
		fmt.Fprintln(w, "  none: every collation's recorded version is the library's (for glibc that proves little; --amcheck is the real test)")
	}
	for _, m := range r.Mismatches {
		actual := m.Actual
		if actual == "" {
			actual = "no version"
		}
		fmt.Fprintf(w, "  %s: recorded %s, the library now reports %s\n", m.Object, m.Recorded, actual)
	}

	fmt.Fprintf(w, "\nREINDEX script: %s, %s\n", plural(len(r.Indexes), "REINDEX statement", "REINDEX statements"),
		plural(len(r.Mismatches), "version refresh", "version refreshes"))
	fmt.Fprint(w, r.ReindexScript)

	if a := r.Amcheck; a != nil {
		fmt.Fprintf(w, "\nAmcheck: checked %s and %s, %s\n", plural(a.Checked, "index", "indexes"), plural(a.Tables, "table", "tables"),
			plural(len(a.Problems), "problem", "problems"))
		for _, p := range a.Problems {
			what := fmt.Sprintf("index %s.%s on %s.%s", p.Schema, p.Index, p.Schema, p.Table)
			if p.Index == "" {
				what = fmt.Sprintf("table %s.%s", p.Schema, p.Table)
			}
			msg := p.Message
			if p.Timeout {
				msg = "TIMEOUT, not checked: " + msg
			}
			if p.SQLState != "" {
				msg += " (SQLSTATE " + p.SQLState + ")"
			}
			fmt.Fprintf(w, "  %s: %s\n", what, msg)
			if p.Detail != "" {
				fmt.Fprintf(w, "    detail: %s\n", p.Detail)
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// humanSize is pg_size_pretty's idea of a size: bytes up to 10 kB, then
// the largest unit of 1024 that leaves at least 10.
func humanSize(n int64) string {
	if n < 10*1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	units := []string{"kB", "MB", "GB", "TB"}
	v, i := float64(n)/1024, 0
	for v >= 10*1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.0f %s", v, units[i])
}

// prefixWriter starts every line with "breakwater: ", as the other
// commands' progress lines start.
type prefixWriter struct {
	w   io.Writer
	mid bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, "breakwater: "...)
		}
		out = append(out, c)
		p.mid = c != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
