package jtdarrow

import (
	"errors"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/jtd"
)

// TestMaxNesting: columns nest lists, maps and objects at most MaxNesting
// levels deep; a deeper definition is refused naming the place.
func TestMaxNesting(t *testing.T) {
	nested := func(levels int) string {
		return `{"properties": {"a": ` + strings.Repeat(`{"elements": `, levels) + `{"type": "string"}` + strings.Repeat(`}`, levels) + `}}`
	}
	for _, c := range []struct {
		levels int
		ok     bool
	}{{1, true}, {MaxNesting, true}, {MaxNesting + 1, false}, {jtd.MaxSchemaNesting - 3, false}} {
		s, err := jtd.Parse([]byte(nested(c.levels)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Columns(s)
		if (err == nil) != c.ok || (err != nil && (!errors.Is(err, base.ErrInvalid) || !strings.Contains(err.Error(), "/properties/a/elements"))) {
			t.Errorf("%d levels: %v, want ok=%v", c.levels, err, c.ok)
		}
	}
}
