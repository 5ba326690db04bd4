// Package path parses the Pipet stream paths of ducktail's event-stream API
// (SPEC 4.2, 4.3): the URL path of a request such as
//
//	/eric/greetings(1):click[2]
//	/user/stream.slice(2, 38).eventType('click')
//	/acct/strm('arg').reducer
//	/acct/strm/logs/pipe/usr2/strm2
//	/sys/cron('0 9 * * 1')
//
// into a [Path], and folds a path's selectors into a [Selector]. It also
// maps substream arguments to and from the folder-safe keys of the storage
// layout (`sub={key}`, see [Arg.SubKey]).
//
// # Grammar
//
// In EBNF (ISO 14977 style; `ws` is any run of spaces and tabs):
//
//	Path       = "/" Account "/" Stream [ SubArg ] [ "/logs" ] [ ":" Type ]
//	             [ Index ] { Call } [ Suffix ] [ Pipe ] .
//	Account    = name .                     (* base.ValidateAccount *)
//	Stream     = name .                     (* base.ValidateStream: not this,
//	                                           dispatch, request, nor "_..." *)
//	name       = lower | digit , { lower | digit | "_" | "-" } .  (* ≤ 63 *)
//	SubArg     = "(" ws Literal ws ")" .
//	Literal    = String | Number | "true" | "false" | "null" | Identifier .
//	String     = "'" { char | Escape } "'" | '"' { char | Escape } '"' .
//	Escape     = "\" ( "'" | '"' | "\" | "n" | "t" | "r" | "b" | "f" | "v"
//	                 | "0" | "x" hex hex | "u" hex hex hex hex
//	                 | "u{" hex { hex } "}" | other ) .
//	Number     = [ "-" ] ( Decimal | "0" ( "x" | "X" ) digits(hex)
//	             | "0" ( "o" | "O" ) digits(octal) | "0" ( "b" | "B" ) digits(binary) ) .
//	Decimal    = ( Integer [ "." [ digits ] ] | "." digits )
//	             [ ( "e" | "E" ) [ "+" | "-" ] digits ] .
//	Integer    = "0" | nzdigit [ [ "_" ] digits ] .
//	digits     = digit { [ "_" ] digit } .     (* of the base named *)
//	Identifier = name .   (* an account; only if not a Number nor a keyword *)
//	Type       = BareType | String .
//	BareType   = typechars { "/" typechars } .   (* never contains "/pipe/" *)
//	typechars  = typechar { typechar } .
//	Index      = "[" digit { digit } "]" .        (* 0 ≤ n ≤ 2^63-1 *)
//	Call       = "." CallName "(" ws [ Literal ws { "," ws Literal ws } ] ")" .
//	CallName   = "slice" | "eventType" | "range" | "limit" .
//	Suffix     = ".reducer" | ".json" | ".ts" .
//	Pipe       = "/pipe/" Account "/" Stream [ SubArg ] .
//
// A typechar is any character except control characters, white space and
// the delimiters [ ] ( ) . ? # ' " \ and /.
//
// # Decisions
//
//   - Input. Parse takes the path as fasthttp's URI.Path gives it
//     (percent-decoded) or as sent (URI.PathOriginal): it decodes every
//     %XX (two hex digits) once and leaves any other '%' alone. So a
//     decoded path that still holds a literal "%41" reads as "A"; servers
//     that want exactness pass PathOriginal (fasthttp's Path also collapses
//     "//" and "/../", even inside quoted arguments). Errors quote the
//     decoded path and give 0-based byte offsets into it. Paths are at most
//     MaxPathLen bytes, must be valid UTF-8, and may hold no control
//     character except a tab inside parentheses or a string.
//   - Literals follow JavaScript: strings in single or double quotes with
//     JS escapes (legacy octal escapes and lone surrogates are refused);
//     numbers in JavaScript's numeric literal syntax with an optional '-'
//     (1.5, .5, 1., 1e3, 1_000, 0x1f, 0o17, 0b101), read as float64 and
//     rounded as JavaScript rounds them (values that overflow to ±Inf are
//     refused, -0 is 0). A token that starts like a number but goes on
//     with name characters (42abc, 0x1g, 01, 1e, 1_, 10n) is an account
//     identifier, not a number; so an account whose name is also a number
//     (42, 1e3, 0x1f) cannot be named as an account substream argument.
//   - Substream identity. Two arguments that are the same JavaScript value
//     (('a') and ("a"), (1), (1.0), (0x1) and (1_0e-1)) name the same substream: [Arg.Raw]
//     keeps the text as written, [Arg.Canonical] gives the one canonical
//     literal, and [Arg.SubKey] is derived from the canonical literal. The
//     storage key of an argument is at most MaxSubKeyLen bytes.
//   - Event types (:type) are 1 to 100 characters (runes), valid UTF-8,
//     without control characters. Written bare, a type may hold '/'
//     (":text/plain" is the type text/plain, which is what an untyped event
//     gets from its content type); it ends at '[', '.', at a "/pipe/" that
//     starts a pipe target, or at the end of the path. "/logs" is only
//     recognised before the type (/a/s/logs:click), so /a/s:text/logs is
//     the type "text/logs". A type that holds a delimiter, white space or
//     "/pipe/" is written as a quoted string: /a/s:'vnd.acme.click'.
//   - Combinations: .json and .ts need a :type and allow no index, calls or
//     pipe; .reducer allows calls (the reducer's selectors) but no :type
//     nor index; an index allows no pipe; a suffix ends the path.
//     At most MaxCalls calls, each with at most MaxArgs arguments.
//   - Calls: .slice(from[, to]) takes non-negative integer ids (to is
//     exclusive; one argument means from); .range(since[, until]) takes
//     integer ms timestamps (until exclusive); either end of both may be
//     null for open. .limit(n) takes an integer n ≥ 0. .eventType(...)
//     takes one or more strings, each a valid event type. Integers are
//     written without fraction or exponent (ids are exact int64s, not
//     float64s). from > to and since > until are refused.
//   - Built-ins: the account sys has only cron, which needs a string
//     argument (the cron expression, not checked here), and events, which
//     needs an account identifier: /sys/events(bob).
//   - Selector: each call may appear once (a repeated call is an error, even
//     with the same arguments). An index n selects ids [n, n+1) and :type
//     selects that type; with .slice() and .eventType() they narrow each
//     other (an empty id range is kept as From == To; a :type that
//     .eventType() does not list is an error).
//
// Every error wraps base.ErrInvalid (HTTP 400) and reads like
// `path "/a/b(": at 5: expected a JavaScript literal or an account name`.
//
// # Concurrency and imports
//
// The package has no state: every function is safe for concurrent use. A
// parsed Path is immutable by convention; its parts share one allocation.
// It imports the standard library and ducktail/base only.
package path
