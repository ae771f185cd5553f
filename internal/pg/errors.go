package pg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is an error reported by the server, kept apart from transport
// errors so checks can branch on SQLState.
type Error struct {
	SQLState string
	Message  string
	Detail   string
	Hint     string
	// Position is the 1-based character (not byte) position in the
	// statement, 0 if the server gave none.
	Position int
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.SQLState)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// SQLStateQueryCanceled is what statement_timeout (and a cancelled
// context) ends a statement with.
const SQLStateQueryCanceled = "57014"

// convertErr turns server errors into *Error and scrubs passwords from
// everything else, since pgx and net/url errors can quote the DSN.
func convertErr(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &Error{
			SQLState: pe.Code,
			Message:  pe.Message,
			Detail:   pe.Detail,
			Hint:     pe.Hint,
			Position: int(pe.Position),
		}
	}
	return &redactedError{err: err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return Redact(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

var (
	// scheme://user:PASSWORD@ ; greedy up to the last '@' of the token,
	// because users do put unescaped '@' in passwords and over-redacting
	// is the safe side.
	urlPassword = regexp.MustCompile("([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\\s\"'`]*:)([^\\s\"'`]*)@")
	// ?password=... or &sslpassword=... in a URL query.
	queryPassword = regexp.MustCompile("(?i)([?&](?:ssl)?password=)([^&#\\s\"'`]*)")
	// password=... in a key=value DSN, quoted or not.
	kvPassword = regexp.MustCompile("(?i)((?:^|[\\s\"'`(])(?:ssl)?password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^\\s\"'`]+)")
)

// Redact replaces passwords in URLs and key=value DSNs, anywhere in s,
// with "xxxxx". It works on whole messages, so error strings that quote a
// DSN can be passed through it.
func Redact(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}xxxxx@")
	s = queryPassword.ReplaceAllString(s, "${1}xxxxx")
	s = kvPassword.ReplaceAllString(s, "${1}xxxxx")
	return s
}

// ServerTrouble says the error is the server's, not the statement's: out
// of disk, memory or connections (class 53, temp_file_limit included),
// an I/O error (class 58), or the server shutting down (57P01-57P03). A
// migration that meets one has not been shown to fail; the check could
// not run.
func (e *Error) ServerTrouble() bool {
	switch {
	case strings.HasPrefix(e.SQLState, "53"), strings.HasPrefix(e.SQLState, "58"):
		return true
	case e.SQLState == "57P01", e.SQLState == "57P02", e.SQLState == "57P03":
		return true
	}
	return false
}
