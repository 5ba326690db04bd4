package base

import (
	"strings"
)

// System column names (SPEC 2). User field names may not start with '_'.
const (
	ColID          = "_id"
	ColTS          = "_ts"
	ColEvent       = "_event"
	ColSub         = "_sub"
	ColTenant      = "_tenant"
	ColContentType = "_content_type"
	ColData        = "_data"
)

// Limits fixed by the contract (SPEC 2 and 4.2).
const (
	MaxEventTypeLen = 100
	MaxNameLen      = 63
)

// ReservedAccount is the account of built-in streams.
const ReservedAccount = "sys"

// StreamName names a stream: an account and a name within it. It is
// comparable and usable as a map key.
type StreamName struct {
	Account string
	Name    string
}

// String returns "account/name".
func (n StreamName) String() string { return n.Account + "/" + n.Name }

// ParseStreamName parses "account/name" and checks both parts.
func ParseStreamName(s string) (StreamName, error) {
	acct, name, ok := strings.Cut(s, "/")
	if !ok {
		return StreamName{}, Errorf(ErrInvalid, "stream %q: want account/name", s)
	}
	n := StreamName{Account: acct, Name: name}
	return n, n.Validate()
}

// Validate checks the account and name against the alphabet and the
// forbidden names of SPEC 1.
func (n StreamName) Validate() error {
	if err := ValidateAccount(n.Account); err != nil {
		return err
	}
	return ValidateStream(n.Name)
}

// ValidateAccount checks an account name: [a-z0-9][a-z0-9_-]{0,62}.
func ValidateAccount(s string) error {
	if err := checkAlphabet("account", s); err != nil {
		return err
	}
	return nil
}

// CheckNewAccount refuses, as the account of a new stream, the accounts
// that name a valid account but cannot hold streams: sys, of the built-in
// streams, and the catalogs and schemas DuckDB has itself (temp, system,
// memory, main's information_schema and pg_catalog), whose streams /sql
// could not make views of or tell apart from DuckDB's own.
func CheckNewAccount(account string) error {
	switch account {
	case ReservedAccount:
		return Errorf(ErrInvalid, "account %q is reserved for built-in streams", account)
	case "temp", "system", "memory", "information_schema", "pg_catalog":
		return Errorf(ErrInvalid, "account %q is reserved: DuckDB has a catalog or schema of that name, so /sql could not show its streams", account)
	}
	return nil
}

// ValidateStream checks a stream name: the account alphabet, and none of the
// forbidden names (this, dispatch, request, or a leading '_').
func ValidateStream(s string) error {
	if strings.HasPrefix(s, "_") {
		return Errorf(ErrInvalid, "stream name %q: names starting with '_' are reserved", s)
	}
	switch s {
	case "this", "dispatch", "request":
		return Errorf(ErrInvalid, "stream name %q is forbidden", s)
	}
	return checkAlphabet("stream name", s)
}

func checkAlphabet(what, s string) error {
	if s == "" {
		return Errorf(ErrInvalid, "%s is empty", what)
	}
	if len(s) > MaxNameLen {
		return Errorf(ErrInvalid, "%s %q is longer than %d characters", what, s, MaxNameLen)
	}
	for i, c := range s { // by rune, so an error names the character, not a byte of it
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return Errorf(ErrInvalid, "%s %q: character %q at byte %d is not allowed (want [a-z0-9][a-z0-9_-]*)",
				what, s, c, i)
		}
	}
	return nil
}

// ValidateFieldName checks a user field name: non-empty and not starting
// with '_', which is kept for system columns.
func ValidateFieldName(s string) error {
	if s == "" {
		return Errorf(ErrInvalid, "field name is empty")
	}
	if strings.HasPrefix(s, "_") {
		return Errorf(ErrInvalid, "field %q: names starting with '_' are reserved for system columns", s)
	}
	return nil
}
