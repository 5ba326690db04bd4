package path

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/ducktail/ducktail/base"
)

// Selector is what a path's selectors keep of a stream: events with
// From <= _id < To, Since <= _ts < Until (ms), of one of Types (all types
// when empty), at most Limit of them.
type Selector struct {
	From, To     int64 // ids; To exclusive; open: 0, math.MaxInt64
	Since, Until int64 // ms timestamps; Until exclusive; open: math.MinInt64, math.MaxInt64
	Types        []string
	Limit        int64 // math.MaxInt64 when there is no limit
}

// All returns the selector that keeps every event.
func All() Selector {
	return Selector{To: math.MaxInt64, Since: math.MinInt64, Until: math.MaxInt64, Limit: math.MaxInt64}
}

// Selector folds the path's :type, [index] and chained calls into a
// Selector. An index n selects ids [n, n+1); :type selects that type. They
// narrow .slice() and .eventType(): the selector keeps what both keep (an
// empty id range is From == To; a :type that .eventType() does not list is
// an error). Each call may appear once. Errors wrap base.ErrInvalid.
func (p *Path) Selector() (Selector, error) {
	s := All()
	if p.Index >= 0 {
		s.From, s.To = p.Index, p.Index
		if p.Index < math.MaxInt64 {
			s.To = p.Index + 1
		}
	}
	if p.Type != "" {
		s.Types = []string{p.Type}
	}
	var seen [4]bool
	for _, c := range p.Chain {
		k := callIndex(c.Name)
		if k < 0 {
			return Selector{}, base.Errorf(base.ErrInvalid, "unknown call .%s()", short(c.Name))
		}
		if seen[k] {
			return Selector{}, base.Errorf(base.ErrInvalid, "repeated .%s(): each call may appear once", c.Name)
		}
		seen[k] = true
		if _, msg := checkCall(c); msg != "" {
			return Selector{}, base.Errorf(base.ErrInvalid, "%s", msg)
		}
		switch c.Name {
		case "slice":
			from, _ := intArg(c.Args, 0, 0)
			to, _ := intArg(c.Args, 1, math.MaxInt64)
			s.From, s.To = max(s.From, from), min(s.To, to)
			if s.From > s.To {
				s.To = s.From // [n] and .slice() have no id in common
			}
		case "range":
			s.Since, _ = intArg(c.Args, 0, math.MinInt64)
			s.Until, _ = intArg(c.Args, 1, math.MaxInt64)
		case "limit":
			s.Limit, _ = intArg(c.Args, 0, 0)
		case "eventType":
			types := make([]string, 0, len(c.Args))
			for _, a := range c.Args {
				t := a.Value.(string) // checked by checkCall
				if !contains(types, t) {
					types = append(types, t)
				}
			}
			if p.Type != "" && !contains(types, p.Type) {
				return Selector{}, base.Errorf(base.ErrInvalid,
					"the event type :%s is not one of .eventType(): no event could match", short(p.Type))
			}
			if p.Type == "" {
				s.Types = types
			}
		}
	}
	return s, nil
}

func callIndex(name string) int {
	switch name {
	case "slice":
		return 0
	case "eventType":
		return 1
	case "range":
		return 2
	case "limit":
		return 3
	}
	return -1
}

// checkCall checks a call's arguments. It returns "" or a message and the
// index of the argument at fault (-1 for the call itself).
func checkCall(c Call) (int, string) {
	switch c.Name {
	case "slice", "range":
		if len(c.Args) < 1 || len(c.Args) > 2 {
			return -1, fmt.Sprintf(".%s() takes 1 or 2 arguments, not %d", c.Name, len(c.Args))
		}
		lo, hi, what := int64(0), int64(math.MaxInt64), "ids"
		if c.Name == "range" {
			lo, what = math.MinInt64, "timestamps"
		}
		a, err := intArg(c.Args, 0, lo)
		if err != "" {
			return 0, fmt.Sprintf(".%s(): %s", c.Name, err)
		}
		b, err := intArg(c.Args, 1, hi)
		if err != "" {
			return 1, fmt.Sprintf(".%s(): %s", c.Name, err)
		}
		if c.Name == "slice" && (a < 0 || b < 0) {
			i := 0
			if a >= 0 {
				i = 1
			}
			return i, ".slice(): ids are non-negative (counting from the end is not supported)"
		}
		if a > b {
			return 1, fmt.Sprintf(".%s(): the end %d is before the start %d (%s)", c.Name, b, a, what)
		}
	case "limit":
		if len(c.Args) != 1 {
			return -1, fmt.Sprintf(".limit() takes 1 argument, not %d", len(c.Args))
		}
		if c.Args[0].Kind == Null {
			return 0, ".limit(): want a non-negative integer, not null"
		}
		n, err := intArg(c.Args, 0, 0)
		if err != "" {
			return 0, ".limit(): " + err
		}
		if n < 0 {
			return 0, ".limit(): want a non-negative integer"
		}
	case "eventType":
		if len(c.Args) == 0 {
			return -1, ".eventType() takes at least 1 argument"
		}
		for i, a := range c.Args {
			t, ok := a.Value.(string)
			if a.Kind != String || !ok {
				return i, fmt.Sprintf(".eventType(): want a quoted event type, not %s %s", a.Kind, short(a.Raw))
			}
			if err := ValidateEventType(t); err != nil {
				return i, ".eventType(): " + err.Error()
			}
		}
	default:
		return -1, fmt.Sprintf("unknown call .%s() (want .slice, .eventType, .range or .limit)", short(c.Name))
	}
	return -1, ""
}

// intArg returns args[i] as an int64: open if it is absent or null. The
// literal must be an integer without fraction or exponent (hex, octal and
// binary integers are allowed).
func intArg(args []Arg, i int, open int64) (int64, string) {
	if i >= len(args) || args[i].Kind == Null {
		return open, ""
	}
	a := args[i]
	if a.Kind != Number {
		return 0, fmt.Sprintf("want an integer or null, not %s %s", a.Kind, short(a.Raw))
	}
	n, err := strconv.ParseInt(a.Raw, 0, 64) // base 0: the 0x, 0o, 0b and 1_000 forms numberEnd lets through
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Sprintf("%s is out of the int64 range", short(a.Raw))
		}
		return 0, fmt.Sprintf("want an integer without fraction or exponent, not %s", short(a.Raw))
	}
	return n, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
