package base

import (
	"errors"
	"fmt"
)

// Error kinds. Every error that reaches a client wraps exactly one of these
// (checked with errors.Is), and the server maps each kind to one HTTP status
// in a single place. The kind's own text never reaches the client: the
// message of the wrapping error does.
var (
	ErrInvalid      = errors.New("invalid input")          // 400
	ErrUnauthorized = errors.New("unauthorized")           // 401
	ErrForbidden    = errors.New("forbidden")              // 403
	ErrNotFound     = errors.New("not found")              // 404
	ErrConflict     = errors.New("conflict")               // 409
	ErrTooLarge     = errors.New("too large")              // 413
	ErrUnsupported  = errors.New("unsupported media type") // 415
	ErrRateLimited  = errors.New("rate limited")           // 429
	ErrOverCapacity = errors.New("over capacity")          // 503
	ErrCorrupt      = errors.New("corrupt data")           // 500: data on disk is damaged
	ErrClosed       = errors.New("closed")                 // 503: shutting down
	ErrTimeout      = errors.New("timed out")              // 504: a server-side time limit (sql.timeout)
)

// Error is an error of a known kind with a message meant for the client.
type Error struct {
	Kind error  // one of the Err* kinds above
	Msg  string // what happened, naming the field or limit
	// RetryAfterMs is a hint for ErrRateLimited and ErrOverCapacity: how long
	// the client should wait before trying again. Zero means no hint.
	RetryAfterMs int64
	Err          error // optional cause, for errors.Is/As and logs
}

// Error returns the message. When the error was made by Errorf with %w, the
// message already contains the cause's text.
func (e *Error) Error() string { return e.Msg }

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error of the given kind whose message is the formatted
// text. A %w verb in format wraps the cause as fmt.Errorf does.
func Errorf(kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Retry returns an error of the given kind (ErrRateLimited or
// ErrOverCapacity) that asks the client to come back after ms milliseconds.
func Retry(kind error, ms int64, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), RetryAfterMs: ms}
}

// KindOf returns the kind of err, or nil if err carries none of the kinds.
func KindOf(err error) error {
	for _, k := range []error{ErrInvalid, ErrUnauthorized, ErrForbidden, ErrNotFound,
		ErrConflict, ErrTooLarge, ErrUnsupported, ErrRateLimited, ErrOverCapacity,
		ErrCorrupt, ErrClosed, ErrTimeout} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// RetryAfter returns the retry hint carried by err, or 0.
func RetryAfter(err error) int64 {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfterMs
	}
	return 0
}
